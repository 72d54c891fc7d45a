package ratelimit

import (
	"sync"
	"time"
)

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
