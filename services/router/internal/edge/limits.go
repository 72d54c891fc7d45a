package edge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// limits is the one context that carries a request's time limits, and the
// one timer that enforces all of them: the total, the first-byte wait of
// the current attempt, and the idle gap of a stream. The context's cause
// says which fired. A client that goes away cancels it too, which cancels
// the upstream call.
//
// One timer per request instead of one per limit: the timer is armed for
// the nearest deadline, and when it fires it either cancels (a deadline
// passed) or re-arms for the next one. A stream's progress is an atomic
// timestamp (touch), not a timer reset per event; the timer reads it when
// it fires.
type limits struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	total  time.Time

	mu      sync.Mutex
	waitFor time.Duration // 0: no first-byte or idle wait in progress
	waitErr error         // the cause when the wait runs out
	armed   time.Time     // when the timer fires next
	// touched is when the current wait started or last saw progress
	// (UnixNano).
	touched atomic.Int64
}

// Why a forwarded request's context ended, when the gateway ended it.
var (
	errTotalTimeout     = errors.New("total request timeout")
	errFirstByteTimeout = errors.New("upstream first-byte timeout")
	errIdleTimeout      = errors.New("upstream stream idle timeout")
	errClientGone       = errors.New("client went away")
)

// newLimits arms the total timeout; call release when the request ends.
func (s *Server) newLimits(parent context.Context) *limits {
	ctx, cancel := context.WithCancelCause(parent)
	now := time.Now()
	l := &limits{ctx: ctx, cancel: cancel, total: now.Add(s.cfg.TotalTimeout)}
	l.armed = l.total
	l.timer = time.AfterFunc(s.cfg.TotalTimeout, l.fire)
	return l
}

// await starts a wait of d (a first byte, or the next stream event) that
// ends the request with cause err unless progress is seen in time.
func (l *limits) await(d time.Duration, err error) {
	now := time.Now()
	l.touched.Store(now.UnixNano())
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waitFor, l.waitErr = d, err
	if at := now.Add(d); at.Before(l.armed) {
		l.armed = at
		l.timer.Reset(d)
	}
}

// touch records progress in the current wait (a stream event arrived).
func (l *limits) touch() { l.touched.Store(time.Now().UnixNano()) }

// done ends the current wait; the timer, if armed for it, re-arms for the
// total when it fires.
func (l *limits) done() {
	l.mu.Lock()
	l.waitFor, l.waitErr = 0, nil
	l.mu.Unlock()
}

// fire runs when the timer expires: it cancels if a deadline passed, or
// re-arms for the nearest one (a wait that saw progress, or ended).
func (l *limits) fire() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.total) {
		l.cancel(errTotalTimeout)
		return
	}
	next := l.total
	if l.waitFor > 0 {
		at := time.Unix(0, l.touched.Load()).Add(l.waitFor)
		if !now.Before(at) {
			l.cancel(l.waitErr)
			return
		}
		if at.Before(next) {
			next = at
		}
	}
	l.armed = next
	l.timer.Reset(next.Sub(now))
}

func (l *limits) release() {
	l.timer.Stop()
	l.cancel(nil)
}
