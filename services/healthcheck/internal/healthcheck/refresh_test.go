package healthcheck

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/services/healthcheck/internal/probe"
)

const (
	testInterval = 400 * time.Millisecond
	testJitter   = 150 * time.Millisecond
)

// Two replicas share the work: every round probes the service exactly once,
// and an upstream that does not change causes exactly one status change
// (the first verification), however many rounds pass.
func TestRoundsProbeOnceAcrossReplicasWithoutFlapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		state  string
	}{
		{"healthy upstream", http.StatusOK, "Ready"},
		{"failing upstream", http.StatusServiceUnavailable, "Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			up := startUpstream(t, tc.status)
			cfg := Config{Interval: testInterval, Jitter: testJitter, Concurrency: 4}
			e.startReplica(t, cfg, true)
			e.startReplica(t, cfg, false)
			e.putService(t, "svc-a", up.URL)
			first := e.waitState(t, "svc-a", tc.state, 5*time.Second)

			const rounds = 6
			from := time.Now()
			time.Sleep(rounds * testInterval)
			perRound := map[int64]int{}
			for _, at := range up.probeTimes() {
				if at.After(from) {
					perRound[at.UnixNano()/int64(testInterval)]++
				}
			}
			for r, n := range perRound {
				if n != 1 {
					t.Errorf("round %d: %d probes, want exactly 1", r, n)
				}
			}
			if len(perRound) < rounds-1 {
				t.Errorf("%d rounds probed in %d intervals", len(perRound), rounds)
			}
			if n := e.eventCount(); n != 1 {
				t.Errorf("%d health events, want 1 (the first verification)", n)
			}
			last := e.status(t, "svc-a")
			if !last.GetCheckedAt().AsTime().After(first.GetCheckedAt().AsTime()) {
				t.Error("checked_at did not advance with the rounds")
			}
			if !last.GetTransitionedAt().AsTime().Equal(first.GetTransitionedAt().AsTime()) {
				t.Error("transitioned_at moved without a transition")
			}
		})
	}
}

// After a cold start (no other replica running) every status reads Pending
// until this replica has probed it, then settles.
func TestColdStartReadsPendingUntilVerified(t *testing.T) {
	e := newEnv(t)
	up := startUpstream(t, http.StatusOK)
	cfg := Config{Interval: time.Hour, Concurrency: 4}
	stop := e.startReplica(t, cfg, true)
	e.putService(t, "svc-a", up.URL)
	before := e.waitState(t, "svc-a", "Ready", 5*time.Second)
	stop()

	gate := make(chan struct{})
	up.setGate(gate)
	e.startReplica(t, Config{Interval: testInterval, Jitter: testJitter, Concurrency: 4}, true)
	pending := e.waitState(t, "svc-a", "Pending", 5*time.Second)
	if pending.GetMessage() != probe.PendingMessage {
		t.Errorf("pending message = %q", pending.GetMessage())
	}
	if !pending.GetTransitionedAt().AsTime().After(before.GetTransitionedAt().AsTime()) {
		t.Error("Pending did not record a transition")
	}
	up.setGate(nil)
	close(gate)
	ready := e.waitState(t, "svc-a", "Ready", 5*time.Second)
	events := e.eventCount() // Ready, Pending, Ready
	time.Sleep(3 * testInterval)
	if events != 3 || e.eventCount() != events {
		t.Errorf("events: %d after settling, %d later; want 3 and no more", events, e.eventCount())
	}
	if got := e.status(t, "svc-a").GetTransitionedAt().AsTime(); !got.Equal(ready.GetTransitionedAt().AsTime()) {
		t.Error("status did not settle")
	}
}

// A replica that starts while a peer runs leaves the statuses alone: a
// rolling restart is not a reason to show Pending.
func TestWarmStartKeepsStatuses(t *testing.T) {
	e := newEnv(t)
	up := startUpstream(t, http.StatusOK)
	cfg := Config{Interval: time.Hour, Concurrency: 4}
	if PeersAlive(e.nc, 200*time.Millisecond) {
		t.Fatal("a peer answered before any replica served")
	}
	peer, err := micro.AddService(e.nc, micro.Config{Name: ServiceName, Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = peer.Stop() }()
	e.startReplica(t, cfg, true)
	e.putService(t, "svc-a", up.URL)
	e.waitState(t, "svc-a", "Ready", 5*time.Second)

	cold := !PeersAlive(e.nc, 2*time.Second)
	if cold {
		t.Fatal("PeersAlive missed the running peer")
	}
	e.startReplica(t, cfg, cold)
	time.Sleep(200 * time.Millisecond)
	if st := e.status(t, "svc-a"); st.GetState() != "Ready" || e.eventCount() != 1 {
		t.Errorf("warm start changed the status: %v, %d events", st, e.eventCount())
	}
}
