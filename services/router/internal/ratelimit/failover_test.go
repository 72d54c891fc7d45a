package ratelimit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type failoverRig struct {
	srv   *redisServer
	clock *fakeClock
	logs  *syncBuffer
	f     *Failover
}

func newFailoverRig(t *testing.T, mode Mode) *failoverRig {
	srv := startRedis(t)
	clock := newFakeClock()
	logs := &syncBuffer{}
	primary := mustRedis(t, srv.client(), RedisOptions{Prefix: uniquePrefix(), Now: clock.Now})
	f := NewFailover(primary, FailoverOptions{
		Mode: mode, Now: clock.Now, Cooldown: time.Second, FailureThreshold: 3,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	return &failoverRig{srv: srv, clock: clock, logs: logs, f: f}
}

func (r *failoverRig) admit(t *testing.T, scopes []Scope) (Decision, time.Duration) {
	t.Helper()
	start := time.Now()
	d, err := r.f.Admit(context.Background(), scopes, 0)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return d, time.Since(start)
}

// TestFailoverRedisKilledAndRestored is TEST-PLAN F7 in miniature.
func TestFailoverRedisKilledAndRestored(t *testing.T) {
	rig := newFailoverRig(t, FailOpen)
	scopes := []Scope{KeyScope("k", Limits{RPM: 5})}
	for range 2 {
		if d, _ := rig.admit(t, scopes); !d.Allowed || d.Source != SourcePrimary {
			t.Fatalf("with Redis up: %+v", d)
		}
	}
	rig.srv.stop()
	var sources []Source
	allowed := 0
	for range 8 {
		d, took := rig.admit(t, scopes)
		if took > 500*time.Millisecond {
			t.Fatalf("an admission with Redis down took %v; the call timeout is not applied", took)
		}
		if d.Allowed {
			allowed++
		}
		sources = append(sources, d.Source)
	}
	if allowed != 5 {
		t.Fatalf("local limiter admitted %d, want the limit 5 (limit × 1 replica)", allowed)
	}
	st := rig.f.Stats()
	if st.FailOpenAllowed != 5 || st.FailOpenDenied != 3 || !st.BreakerOpen || st.BreakerOpened != 1 || st.PrimaryErrors != 3 {
		t.Fatalf("stats %+v, sources %v", st, sources)
	}
	if n := strings.Count(rig.logs.String(), "primary backend unavailable"); n != 1 {
		t.Fatalf("%d log lines, want 1 (rate-limited):\n%s", n, rig.logs.String())
	}
	rig.srv.start()
	rig.clock.Advance(time.Second) // cooldown over: the next call probes Redis
	if d, _ := rig.admit(t, scopes); !d.Allowed || d.Source != SourcePrimary || rig.f.Stats().BreakerOpen {
		t.Fatalf("after Redis came back: %+v, stats %+v", d, rig.f.Stats())
	}
}

// TestFailoverSlowRedis is TEST-PLAN F8: Redis stalls (CLIENT PAUSE), each
// call gives up after the timeout, the breaker opens, and closes again
// after the stall.
func TestFailoverSlowRedis(t *testing.T) {
	rig := newFailoverRig(t, FailOpen)
	admin := rig.srv.client()
	scopes := []Scope{KeyScope("k", Limits{RPM: 100})}
	if d, _ := rig.admit(t, scopes); d.Source != SourcePrimary {
		t.Fatalf("warm-up: %+v", d)
	}
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		d, took := rig.admit(t, scopes)
		t.Logf("call %d during the stall took %v", i, took)
		if !d.Allowed || d.Source != SourceLocal || took > 250*time.Millisecond {
			t.Fatalf("call %d during the stall: %+v after %v", i, d, took)
		}
	}
	if st := rig.f.Stats(); !st.BreakerOpen || st.PrimaryErrors != 3 {
		t.Fatalf("stats %+v: want the breaker open after 3 timeouts and no calls after", st)
	}
	time.Sleep(1600 * time.Millisecond) // let the pause end
	rig.clock.Advance(time.Second)
	if d, _ := rig.admit(t, scopes); d.Source != SourcePrimary || rig.f.Stats().BreakerOpen {
		t.Fatalf("after the stall: %+v", d)
	}
}

func TestFailoverFailClosed(t *testing.T) {
	rig := newFailoverRig(t, FailClosed)
	rig.srv.stop()
	d, _ := rig.admit(t, []Scope{KeyScope("k", Limits{RPM: 5})})
	if d.Allowed || d.Source != SourceUnavailable || d.RetryAfter != time.Second || rig.f.Stats().FailClosedDenied != 1 {
		t.Fatalf("fail-closed decision %+v, stats %+v", d, rig.f.Stats())
	}
	if !strings.Contains(rig.logs.String(), "policy=fail-closed") {
		t.Fatalf("log does not name the policy:\n%s", rig.logs.String())
	}
}

func TestFailoverLocalScaleAndSettle(t *testing.T) {
	rig := newFailoverRig(t, FailOpen)
	rig.f.opts.LocalScale = 0.5
	rig.srv.stop()
	scopes := []Scope{KeyScope("k", Limits{RPM: 10, TPM: 1000})}
	ctx := context.Background()
	d, err := rig.f.Admit(ctx, scopes, 400)
	if err != nil || !d.Allowed || d.Source != SourceLocal || d.Tokens.Limit != 500 || d.Tokens.Remaining != 100 {
		t.Fatalf("scaled local admission %+v, %v", d, err)
	}
	if err := rig.f.Settle(ctx, d.Reservation, 0); err != nil {
		t.Fatal(err)
	}
	if d, _ = rig.f.Admit(ctx, scopes, 500); !d.Allowed {
		t.Fatalf("the refund did not reach the local limiter: %+v", d)
	}
}

func TestFailoverCallerCancellationIsNotAFailure(t *testing.T) {
	rig := newFailoverRig(t, FailOpen)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rig.f.Admit(ctx, []Scope{KeyScope("k", Limits{RPM: 5})}, 0); err == nil {
		t.Fatal("a cancelled caller got a decision")
	}
	if st := rig.f.Stats(); st.PrimaryErrors != 0 || st.FailOpenAllowed != 0 {
		t.Fatalf("cancellation counted as a Redis failure: %+v", st)
	}
}

func TestBreaker(t *testing.T) {
	t0 := time.Unix(0, 0)
	tests := []struct {
		name string
		run  func(b *breaker) bool
	}{
		{"stays closed below threshold", func(b *breaker) bool {
			b.failure(t0)
			b.failure(t0)
			return b.allow(t0)
		}},
		{"opens at threshold", func(b *breaker) bool {
			b.failure(t0)
			b.failure(t0)
			return b.failure(t0) && !b.allow(t0.Add(time.Second-1))
		}},
		{"one probe after cooldown", func(b *breaker) bool {
			for range 3 {
				b.failure(t0)
			}
			return b.allow(t0.Add(time.Second)) && !b.allow(t0.Add(time.Second))
		}},
		{"failed probe reopens", func(b *breaker) bool {
			for range 3 {
				b.failure(t0)
			}
			b.allow(t0.Add(time.Second))
			b.failure(t0.Add(time.Second))
			return !b.allow(t0.Add(time.Second+time.Second/2)) && b.allow(t0.Add(2*time.Second))
		}},
		{"abandoned probe lets another probe", func(b *breaker) bool {
			for range 3 {
				b.failure(t0)
			}
			b.allow(t0.Add(time.Second))
			b.abandon()
			return b.allow(t0.Add(time.Second))
		}},
		{"success closes", func(b *breaker) bool {
			for range 3 {
				b.failure(t0)
			}
			b.allow(t0.Add(time.Second))
			b.success()
			return !b.isOpen() && b.allow(t0.Add(time.Second))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.run(&breaker{threshold: 3, cooldown: time.Second}) {
				t.Fatal("breaker misbehaved")
			}
		})
	}
}

func TestFailoverSettleWhilePrimaryAway(t *testing.T) {
	rig := newFailoverRig(t, FailOpen)
	ctx := context.Background()
	scopes := []Scope{KeyScope("k", Limits{TPM: 1000})}
	d, err := rig.f.Admit(ctx, scopes, 600)
	if err != nil || d.Source != SourcePrimary {
		t.Fatalf("Admit = %+v, %v", d, err)
	}
	rig.srv.stop()
	for range 3 {
		if err := rig.f.Settle(ctx, d.Reservation, 100); err != nil {
			t.Fatalf("Settle must absorb primary failures, got %v", err)
		}
	}
	if st := rig.f.Stats(); st.SettleDropped != 3 || !st.BreakerOpen {
		t.Fatalf("stats %+v: want 3 dropped settlements and the breaker open", st)
	}
}
