package health

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/metrics"
)

// scoreWeight is how much one outcome moves a service's success score: an
// exponentially weighted mean over roughly the last 1/scoreWeight calls.
const scoreWeight = 0.05

var perfectScore = math.Float64bits(1)

// circuit is one service's breaker.
type circuit struct {
	service string
	// score is the EWMA of successes (1) and failures (0), as float64 bits.
	score atomic.Uint64
	// healthy mirrors "closed, no failures counted" so the common case (a
	// healthy upstream) takes no lock on the request path.
	healthy   atomic.Bool
	mu        sync.Mutex
	state     State
	failures  int       // consecutive failures
	openUntil time.Time // open: no traffic before this
	probeAt   time.Time // half-open: when the probe request was let through
	reason    string
	opens     uint64
}

func (c *circuit) allow(clock func() time.Time, coolDown time.Duration) bool {
	if c.healthy.Load() {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := clock()
	switch c.state {
	case Closed:
		return true
	case Open:
		if now.Before(c.openUntil) {
			return false
		}
		c.setState(HalfOpen)
		c.probeAt = now
		return true
	}
	// Half-open: one probe at a time; a probe whose outcome never came
	// back (the client left first) is replaced after a cool-down.
	if now.Sub(c.probeAt) < coolDown {
		return false
	}
	c.probeAt = now
	return true
}

func (c *circuit) record(clock func() time.Time, o Outcome, retryAfter time.Duration, cfg Config) {
	c.observe(o)
	if o == Success && c.healthy.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := clock()
	defer func() { c.healthy.Store(c.state == Closed && c.failures == 0) }()
	switch o {
	case Success:
		if c.state == Open && now.Before(c.openUntil) {
			return // a request sent before the circuit opened; the deadline stands
		}
		c.setState(Closed)
		c.failures, c.openUntil = 0, time.Time{}
	case Failure:
		c.failures++
		if c.state == HalfOpen || (c.state == Closed && c.failures >= cfg.FailureThreshold) {
			c.open(now.Add(cfg.CoolDown), strconv.Itoa(c.failures)+" consecutive upstream failures")
		}
	case RateLimited:
		switch {
		case retryAfter > 0:
			c.open(now.Add(retryAfter), "rate limited by upstream; Retry-After "+retryAfter.String())
		case c.state == HalfOpen:
			c.open(now.Add(cfg.CoolDown), "rate limited by upstream")
		}
	}
}

// open stops traffic until until; a later deadline already set stands (a
// Retry-After is not shortened by a failure's cool-down).
func (c *circuit) open(until time.Time, reason string) {
	if c.state != Open {
		c.opens++
	}
	c.setState(Open)
	c.reason, c.probeAt = reason, time.Time{}
	if until.After(c.openUntil) {
		c.openUntil = until
	}
}

func (c *circuit) snapshot(service string, now time.Time) CircuitSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CircuitSnapshot{Service: service, State: c.state, ConsecutiveFailures: c.failures,
		Reason: c.reason, Opens: c.opens}
	if c.state == Open && now.Before(c.openUntil) {
		s.OpenUntil = c.openUntil
	}
	return s
}

// setState moves the circuit to st and records a change in the metrics.
func (c *circuit) setState(st State) {
	if c.state == st {
		return
	}
	c.state = st
	switch st {
	case Open:
		metrics.CircuitChanged(c.service, metrics.CircuitOpen)
	case HalfOpen:
		metrics.CircuitChanged(c.service, metrics.CircuitHalfOpen)
	default:
		metrics.CircuitChanged(c.service, metrics.CircuitClosed)
	}
}

// observe folds one outcome into the success score. A 429 counts as a
// failure: the service could not take the request.
func (c *circuit) observe(o Outcome) {
	hit := 0.0
	if o == Success {
		hit = 1
	}
	for {
		old := c.score.Load()
		if hit == 1 && old == perfectScore {
			return // the healthy case costs one atomic load
		}
		next := math.Float64bits(min(math.Float64frombits(old)*(1-scoreWeight)+hit*scoreWeight, 1))
		if old == next || c.score.CompareAndSwap(old, next) {
			return
		}
	}
}

// successScore is the recent success ratio, 1 for a service with no
// failures.
func (c *circuit) successScore() float64 { return math.Float64frombits(c.score.Load()) }
