package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is what Failover does while the primary backend is unavailable.
type Mode uint8

// Failure modes.
const (
	// FailOpen admits through a local in-memory limiter (the default).
	FailOpen Mode = iota
	// FailClosed denies with Source SourceUnavailable and a Retry-After.
	FailClosed
)

// FailoverOptions configure Failover. Zero values take the defaults shown.
type FailoverOptions struct {
	Mode Mode
	// Timeout bounds each primary call (20 ms), so Redis never adds more
	// than that to a request.
	Timeout time.Duration
	// LocalScale multiplies every limit in the local limiter (1). Each
	// replica limits on its own while failing open, so with R replicas a
	// scope admits at most limit × LocalScale × R cluster-wide. The default
	// keeps that at limit × R; 1/R restores the cluster-wide limit when the
	// load balancer spreads a client evenly.
	LocalScale float64
	// FailureThreshold consecutive failures open the breaker (3).
	FailureThreshold int
	// Cooldown is how long the breaker stays open before one probe (1 s).
	Cooldown time.Duration
	// ClosedRetryAfter is the Retry-After of fail-closed denials (1 s).
	ClosedRetryAfter time.Duration
	// Logger receives the rate-limited "primary unavailable" line (slog.Default()).
	Logger *slog.Logger
	// LogEvery is the least time between two such lines (10 s).
	LogEvery time.Duration
	// Now is the clock for the breaker and the local limiter (time.Now).
	Now func() time.Time
}

// Stats are cumulative counters, safe to read at any time; export them as
// Prometheus counters (e.g. ratelimit_failure_mode_allowed_total).
type Stats struct {
	PrimaryErrors    uint64 // primary calls that failed or timed out
	FailOpenAllowed  uint64 // admissions allowed by the local limiter
	FailOpenDenied   uint64 // admissions denied by the local limiter
	FailClosedDenied uint64 // admissions denied because the primary was away
	BreakerOpened    uint64 // times the breaker opened
	SettleDropped    uint64 // settlements lost because the primary was away
	BreakerOpen      bool   // whether calls are being diverted now
}

// Failover wraps a remote Limiter with a per-call timeout, a circuit breaker
// and a failure policy. It is itself a Limiter.
type Failover struct {
	primary Limiter
	local   *Memory
	opts    FailoverOptions
	breaker breaker

	primaryErrors, failOpenAllowed, failOpenDenied atomic.Uint64
	failClosedDenied, breakerOpened, settleDropped atomic.Uint64

	logMu      sync.Mutex
	lastLog    time.Time
	unreported uint64
}

// NewFailover wraps primary.
func NewFailover(primary Limiter, opts FailoverOptions) *Failover {
	opts = opts.withDefaults()
	return &Failover{
		primary: primary,
		local:   NewMemory(MemoryOptions{Now: opts.Now}),
		opts:    opts,
		breaker: breaker{threshold: opts.FailureThreshold, cooldown: opts.Cooldown},
	}
}

func (o FailoverOptions) withDefaults() FailoverOptions {
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Millisecond
	}
	if o.LocalScale <= 0 {
		o.LocalScale = 1
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 3
	}
	if o.Cooldown <= 0 {
		o.Cooldown = time.Second
	}
	if o.ClosedRetryAfter <= 0 {
		o.ClosedRetryAfter = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Admit implements Limiter. It returns an error only for invalid input or
// when ctx itself ended; primary failures are handled by the policy.
func (f *Failover) Admit(ctx context.Context, scopes []Scope, tokens int64) (Decision, error) {
	if _, err := checkScopes(scopes, tokens); err != nil {
		return Decision{}, err
	}
	if f.breaker.allow(f.opts.Now()) {
		d, err := f.callPrimary(ctx, scopes, tokens)
		if err == nil || ctx.Err() != nil {
			return d, err
		}
		f.noteFailure(err)
	}
	return f.fallback(ctx, scopes, tokens)
}

func (f *Failover) callPrimary(ctx context.Context, scopes []Scope, tokens int64) (Decision, error) {
	callCtx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	d, err := f.primary.Admit(callCtx, scopes, tokens)
	switch {
	case err == nil:
		f.breaker.success()
	case ctx.Err() != nil:
		f.breaker.abandon()
	}
	return d, err
}

func (f *Failover) noteFailure(err error) {
	f.primaryErrors.Add(1)
	if f.breaker.failure(f.opts.Now()) {
		f.breakerOpened.Add(1)
	}
	f.logUnavailable(err)
}

// fallback decides without the primary, per Mode.
func (f *Failover) fallback(ctx context.Context, scopes []Scope, tokens int64) (Decision, error) {
	if f.opts.Mode == FailClosed {
		f.failClosedDenied.Add(1)
		return Decision{RetryAfter: f.opts.ClosedRetryAfter, Source: SourceUnavailable}, nil
	}
	var scaled [MaxScopes]Scope
	for i, s := range scopes {
		s.Limits = Limits{RPM: f.scale(s.Limits.RPM), TPM: f.scale(s.Limits.TPM)}
		scaled[i] = s
	}
	d, err := f.local.Admit(ctx, scaled[:len(scopes)], tokens)
	if err != nil {
		return d, err
	}
	d.Source = SourceLocal
	d.Reservation.origin = SourceLocal
	if d.Allowed {
		f.failOpenAllowed.Add(1)
	} else {
		f.failOpenDenied.Add(1)
	}
	return d, nil
}

func (f *Failover) scale(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	return max(1, int64(math.Ceil(float64(limit)*f.opts.LocalScale)))
}

// Settle implements Limiter. A reservation goes back to the limiter that
// made it; if that is the primary and it is away, the settlement is dropped
// (the estimate stays charged, which errs on the strict side) and counted.
func (f *Failover) Settle(ctx context.Context, r Reservation, usedTokens int64) error {
	if r.origin == SourceLocal {
		return f.local.Settle(ctx, r, usedTokens)
	}
	if r.n == 0 || max(usedTokens, 0) == r.tokens {
		return nil
	}
	if !f.breaker.allow(f.opts.Now()) {
		f.settleDropped.Add(1)
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	err := f.primary.Settle(callCtx, r, usedTokens)
	switch {
	case err == nil:
		f.breaker.success()
	case ctx.Err() != nil:
		f.breaker.abandon()
		return err
	default:
		f.settleDropped.Add(1)
		f.noteFailure(err)
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (f *Failover) Stats() Stats {
	return Stats{
		PrimaryErrors:    f.primaryErrors.Load(),
		FailOpenAllowed:  f.failOpenAllowed.Load(),
		FailOpenDenied:   f.failOpenDenied.Load(),
		FailClosedDenied: f.failClosedDenied.Load(),
		BreakerOpened:    f.breakerOpened.Load(),
		SettleDropped:    f.settleDropped.Load(),
		BreakerOpen:      f.breaker.isOpen(),
	}
}

// logUnavailable logs at most one line per LogEvery, carrying how many
// failures it stands for.
func (f *Failover) logUnavailable(err error) {
	f.logMu.Lock()
	f.unreported++
	now := f.opts.Now()
	if now.Sub(f.lastLog) < f.opts.LogEvery {
		f.logMu.Unlock()
		return
	}
	count := f.unreported
	f.lastLog, f.unreported = now, 0
	f.logMu.Unlock()
	mode := "fail-open"
	if f.opts.Mode == FailClosed {
		mode = "fail-closed"
	}
	f.opts.Logger.Warn("ratelimit: primary backend unavailable",
		"policy", mode, "failures", count, "breaker_open", f.breaker.isOpen(), "err", err)
}

// breaker stops calls to a failing backend. After threshold consecutive
// failures it opens for cooldown; then exactly one caller probes, and its
// result closes the breaker or reopens it for another cooldown.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	failures  int
	open      bool
	probing   bool
	openUntil time.Time
}

// allow reports whether this call may use the backend.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return true
	case b.probing || now.Before(b.openUntil):
		return false
	}
	b.probing = true
	return true
}

// success closes the breaker.
func (b *breaker) success() {
	b.mu.Lock()
	b.failures, b.open, b.probing = 0, false, false
	b.mu.Unlock()
}

// failure records a failed call and reports whether it opened the breaker.
func (b *breaker) failure(now time.Time) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.probing || (!b.open && b.failures >= b.threshold) {
		opened = !b.open
		b.open, b.probing, b.openUntil = true, false, now.Add(b.cooldown)
	}
	return opened
}

// abandon releases a probe that ended without a verdict (the caller's
// context ended), so the next call probes instead.
func (b *breaker) abandon() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// isOpen reports whether calls are being diverted.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}
