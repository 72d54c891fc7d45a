package edge

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLimitsOneTimer checks the single timer's bookkeeping: progress
// (touch) keeps an idle wait alive past its length, an ended wait (done)
// no longer fires, and each deadline ends the context with its own cause.
func TestLimitsOneTimer(t *testing.T) {
	cases := []struct {
		name    string
		total   time.Duration
		run     func(l *limits)
		alive   time.Duration // the context must still be live this long after run
		cause   error         // then it must end with this cause
		endedBy time.Duration
	}{
		{"idle wait kept alive by progress, then idle", time.Minute, func(l *limits) {
			l.await(80*time.Millisecond, errIdleTimeout)
			for range 6 {
				time.Sleep(30 * time.Millisecond)
				l.touch()
			}
		}, 40 * time.Millisecond, errIdleTimeout, 2 * time.Second},
		{"first byte wait ended, then total", 400 * time.Millisecond, func(l *limits) {
			l.await(50*time.Millisecond, errFirstByteTimeout)
			l.done()
		}, 150 * time.Millisecond, errTotalTimeout, 2 * time.Second},
		{"first byte wait runs out", time.Minute, func(l *limits) {
			l.await(50*time.Millisecond, errFirstByteTimeout)
		}, 0, errFirstByteTimeout, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{cfg: Config{TotalTimeout: tc.total}}
			l := s.newLimits(context.Background())
			defer l.release()
			tc.run(l)
			select {
			case <-time.After(tc.alive):
			case <-l.ctx.Done():
				t.Fatalf("ended early: %v", context.Cause(l.ctx))
			}
			select {
			case <-l.ctx.Done():
			case <-time.After(tc.endedBy):
				t.Fatal("never ended")
			}
			if cause := context.Cause(l.ctx); !errors.Is(cause, tc.cause) {
				t.Fatalf("cause %v; want %v", cause, tc.cause)
			}
		})
	}
}
