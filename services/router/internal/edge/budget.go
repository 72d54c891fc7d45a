package edge

import (
	"sync"
	"sync/atomic"
	"time"
)

// RetryBudget bounds the extra upstream attempts fallback may make, so a
// failing upstream cannot multiply the load on the others (a retry storm).
// Like Envoy's retry budget it is a share of the traffic, not a count per
// request: over the last Window, retries may be at most Ratio of the client
// requests plus MinRetries (so a quiet edge can still fall back), and at
// most max(MinConcurrent, Ratio × requests in flight) retries run at once.
type RetryBudget struct {
	Ratio         float64       // extra attempts per client request (0.2)
	MinRetries    int64         // retries always allowed per Window (3)
	MinConcurrent int64         // concurrent retries always allowed (3)
	Window        time.Duration // sliding window (10s)
	MaxAttempts   int           // upstream attempts per client request, first included (3)
}

// DefaultRetryBudget is 20% extra attempts over 10 s.
func DefaultRetryBudget() RetryBudget {
	return RetryBudget{Ratio: 0.2, MinRetries: 3, MinConcurrent: 3, Window: 10 * time.Second, MaxAttempts: 3}
}

// budgetSlots is the window's resolution: one slot per tenth of it.
const budgetSlots = 10

// retryBudget is RetryBudget's running state.
type retryBudget struct {
	cfg   RetryBudget
	now   func() time.Time
	mu    sync.Mutex
	slots [budgetSlots]budgetSlot
	// inFlight counts client requests being served, activeRetries the
	// fallback attempts running now.
	inFlight, activeRetries atomic.Int64
}

type budgetSlot struct {
	epoch             int64 // which slot-length period of time the counts are for
	requests, retries int64
}

func newRetryBudget(cfg RetryBudget) *retryBudget {
	def := DefaultRetryBudget()
	if cfg.Window <= 0 {
		cfg.Window = def.Window
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	return &retryBudget{cfg: cfg, now: time.Now}
}

// started counts a client request that will reach an upstream; call the
// returned function when it ends.
func (b *retryBudget) started() func() {
	b.mu.Lock()
	b.slot().requests++
	b.mu.Unlock()
	b.inFlight.Add(1)
	return func() { b.inFlight.Add(-1) }
}

// acquire takes one retry from the budget; ok is false when the budget is
// spent. Call release when the retry's upstream call ends.
func (b *retryBudget) acquire() (release func(), ok bool) {
	concurrent := max(b.cfg.MinConcurrent, int64(b.cfg.Ratio*float64(b.inFlight.Load())))
	if b.activeRetries.Add(1) > concurrent {
		b.activeRetries.Add(-1)
		return nil, false
	}
	b.mu.Lock()
	requests, retries := b.totals()
	ok = float64(retries) < b.cfg.Ratio*float64(requests)+float64(b.cfg.MinRetries)
	if ok {
		b.slot().retries++
	}
	b.mu.Unlock()
	if !ok {
		b.activeRetries.Add(-1)
		return nil, false
	}
	return func() { b.activeRetries.Add(-1) }, true
}

// slot returns the current slot, cleared if it held an older period.
// Callers hold mu.
func (b *retryBudget) slot() *budgetSlot {
	epoch := b.epoch()
	s := &b.slots[epoch%budgetSlots]
	if s.epoch != epoch {
		*s = budgetSlot{epoch: epoch}
	}
	return s
}

// totals sums the slots inside the window. Callers hold mu.
func (b *retryBudget) totals() (requests, retries int64) {
	now := b.epoch()
	for i := range b.slots {
		if s := &b.slots[i]; now-s.epoch < budgetSlots {
			requests += s.requests
			retries += s.retries
		}
	}
	return requests, retries
}

func (b *retryBudget) epoch() int64 {
	return b.now().UnixNano() / int64(b.cfg.Window/budgetSlots)
}
