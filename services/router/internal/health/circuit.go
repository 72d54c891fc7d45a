package health

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// circuit is one service's breaker.
type circuit struct {
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
		c.state, c.probeAt = HalfOpen, now
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
		c.state, c.failures, c.openUntil = Closed, 0, time.Time{}
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
	c.state, c.reason, c.probeAt = Open, reason, time.Time{}
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
