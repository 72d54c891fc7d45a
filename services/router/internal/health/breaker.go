// Package health is the router's passive health: a circuit breaker per
// upstream service, fed by the outcome of every request the edge forwards.
//
// The router owns the circuits, one independent set per router replica:
// each replica sees its own traffic and reacts within one request, without
// a NATS round trip on the request path, and a replica cut off from NATS
// still protects itself (TEST-PLAN F13). Healthcheck's active probes (the
// Failed state in sy_status) are the slow, fleet-wide signal; the circuit
// is the fast, local one. The edge skips a service whose circuit is open
// while another service can serve the same model.
//
// States: closed (traffic flows), open (no traffic until a time: after
// FailureThreshold consecutive connect failures or 5xx answers, for
// CoolDown; after a 429 with Retry-After, until the upstream said), and
// half-open (the open time passed: exactly one request goes through; its
// success closes the circuit, its failure opens it again).
package health

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/provider"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
)

// Config tunes the breakers. Zero fields take the defaults.
type Config struct {
	// FailureThreshold is how many consecutive connect failures or 5xx
	// answers open a circuit (default 5).
	FailureThreshold int
	// CoolDown is how long a circuit opened by failures stays open before
	// one request may test the upstream again (default 30s).
	CoolDown time.Duration
	// MaxRetryAfter caps how long a 429's Retry-After keeps a circuit open
	// (default 10m), so a wild header cannot disable a service for a day.
	MaxRetryAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.FailureThreshold <= 0 {
		c.FailureThreshold = 5
	}
	if c.CoolDown <= 0 {
		c.CoolDown = 30 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 10 * time.Minute
	}
	return c
}

// State is a circuit's state.
type State string

// The circuit states.
const (
	Closed   State = "closed"
	Open     State = "open"
	HalfOpen State = "half_open"
)

// Outcome is what one forwarded request told us about its upstream.
type Outcome int

// The outcomes.
const (
	// Success: the upstream answered (2xx, or a 4xx about the request).
	Success Outcome = iota
	// Failure: connect failure, no answer in time, 5xx or 529.
	Failure
	// RateLimited: 429; it opens the circuit only with a Retry-After.
	RateLimited
)

// OutcomeOf classifies an upstream HTTP status.
func OutcomeOf(status int) Outcome {
	switch {
	case status == http.StatusTooManyRequests:
		return RateLimited
	case status >= 500:
		return Failure
	}
	return Success
}

// Breakers holds one circuit per service name. It is safe for concurrent
// use; the zero value is not, use New.
type Breakers struct {
	cfg      Config
	now      func() time.Time
	circuits sync.Map // service name -> *circuit
}

// New returns breakers with cfg's thresholds.
func New(cfg Config) *Breakers {
	return &Breakers{cfg: cfg.withDefaults(), now: time.Now}
}

func (b *Breakers) circuit(service string) *circuit {
	if c, ok := b.circuits.Load(service); ok {
		return c.(*circuit)
	}
	fresh := &circuit{service: service, state: Closed}
	fresh.healthy.Store(true)
	fresh.score.Store(perfectScore)
	c, _ := b.circuits.LoadOrStore(service, fresh)
	return c.(*circuit)
}

// Allow reports whether a request may go to service now. When an open
// circuit's time has passed it lets this one request through as the
// half-open probe and refuses the others until that probe's outcome is
// recorded (or a cool-down passes without one, so a lost probe cannot
// wedge the circuit).
func (b *Breakers) Allow(service string) bool {
	if b == nil {
		return true
	}
	return b.circuit(service).allow(b.now, b.cfg.CoolDown)
}

// Record feeds one request's outcome. retryAfter is the upstream's
// Retry-After for a 429 (0 when absent).
func (b *Breakers) Record(service string, o Outcome, retryAfter time.Duration) {
	if b == nil {
		return
	}
	b.circuit(service).record(b.now, o, min(retryAfter, b.cfg.MaxRetryAfter), b.cfg)
}

// RetryIn is how long until service may take a request again (0 when it
// may now): what to put in a client's Retry-After.
func (b *Breakers) RetryIn(service string) time.Duration {
	if b == nil {
		return 0
	}
	c := b.circuit(service)
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.openUntil.Sub(b.now()), 0)
}

// Score is service's recent success ratio in [0, 1]: an exponentially
// weighted mean over about the last 20 calls (1 when it has had none).
// The edge scales a service's balancing weight by it, so a service that
// fails half its calls gets fewer of them before its circuit opens.
func (b *Breakers) Score(service string) float64 {
	if b == nil {
		return 1
	}
	c, ok := b.circuits.Load(service)
	if !ok {
		return 1
	}
	return c.(*circuit).successScore()
}

// Forget drops the circuits of services that are gone.
func (b *Breakers) Forget(keep func(service string) bool) {
	b.circuits.Range(func(k, _ any) bool {
		if !keep(k.(string)) {
			b.circuits.Delete(k)
			metrics.ForgetService(k.(string))
		}
		return true
	})
}

// CircuitSnapshot is one circuit's state, for metrics and diagnostics.
type CircuitSnapshot struct {
	Service             string
	State               State
	ConsecutiveFailures int
	OpenUntil           time.Time // zero unless open
	Reason              string    // why it last opened
	Opens               uint64    // times it has opened
}

// Snapshot returns every circuit, sorted by service name.
func (b *Breakers) Snapshot() []CircuitSnapshot {
	var out []CircuitSnapshot
	now := b.now()
	b.circuits.Range(func(k, v any) bool {
		out = append(out, v.(*circuit).snapshot(k.(string), now))
		return true
	})
	slices.SortFunc(out, func(a, c CircuitSnapshot) int { return strings.Compare(a.Service, c.Service) })
	return out
}

// RecordCall feeds the outcome of one upstream call: resp when an answer
// came, err when the call failed first. callerGone says the client (not
// the upstream) ended the call; that says nothing about the upstream and
// is not recorded.
func (b *Breakers) RecordCall(service string, resp *http.Response, err error, callerGone bool) {
	switch {
	case b == nil || callerGone:
	case err != nil || resp == nil:
		b.Record(service, Failure, 0)
	default:
		b.Record(service, OutcomeOf(resp.StatusCode), provider.RetryAfter(resp.Header, nil, b.now()))
	}
}
