package system

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// streamsPerRouter is how many slow (8 s) streams each router holds when
// router-1 is killed.
const streamsPerRouter = 20

type streamEnd struct {
	router string
	id     string
	err    error
	ended  time.Time
}

// TEST-PLAN F6: SIGKILL a router replica with streams open. Its streams
// end with a client-visible error (none hangs); the other replica's
// streams and requests see no error; every request that completed is
// metered exactly once, and the killed replica's spool is replayed when
// it restarts, metering each killed stream once as interrupted.
func TestRouterKilledWithStreamsOpen(t *testing.T) {
	s := stackFor(t)
	streamKey, otherKey := s.newKey(t, "f6-streams@example.com", 0), s.newKey(t, "f6-other@example.com", 0)
	for _, r := range []string{"router-1", "router-2"} {
		if err := s.waitServes(r, streamKey, fastModel, slowModel); err != nil {
			t.Fatal(err)
		}
		if err := s.waitServes(r, otherKey, fastModel); err != nil {
			t.Fatal(err)
		}
	}
	ends := make(chan streamEnd, 2*streamsPerRouter)
	for _, r := range []string{"router-1", "router-2"} {
		for range streamsPerRouter {
			go func() {
				_, id, err := chat(context.Background(), s.edge(r), streamKey, slowModel, true)
				ends <- streamEnd{router: r, id: id, err: err, ended: time.Now()}
			}()
		}
	}
	wait := loadFor(15*time.Second, []string{s.edge("router-2")}, otherKey, fastModel, 3)
	time.Sleep(2 * time.Second) // every stream open, none near its end
	killedAt := time.Now()
	if err := s.boxes["router-1"].kill(); err != nil {
		t.Fatal(err)
	}
	killed, survived, streams := collectStreams(t, ends, killedAt)
	other := wait()
	restartedAt := time.Now()
	if err := s.boxes["router-1"].start(); err != nil {
		t.Fatal(err)
	}
	s.requireHealthy(t)
	restart := time.Since(restartedAt)
	ms, mo := s.meter(t, streamKey, streams), s.meter(t, otherKey, other)
	report(t, "F6 router-1 SIGKILLed, other traffic on router-2", other, mo, "")
	report(t, fmt.Sprintf("F6 %d streams per router", streamsPerRouter), streams, ms,
		fmt.Sprintf("router-1 streams ended with an error %d of %d (last %v after the kill), router-2 stream errors %d, killed streams metered %d, router-1 ready again %v after its restart",
			killed.errors, streamsPerRouter, killed.lastEnd.Round(time.Millisecond), survived.errors,
			ms.inLedger-(streamsPerRouter-survived.errors), restart.Round(100*time.Millisecond)))
	if killed.errors != streamsPerRouter || killed.lastEnd > 10*time.Second {
		t.Errorf("router-1: %d of %d streams ended with an error, the last %v after the kill", killed.errors, streamsPerRouter, killed.lastEnd)
	}
	if survived.errors != 0 || other.errors != 0 {
		t.Errorf("router-2: %d stream errors, %d request errors; want none\nhealthcheck's last log lines:\n%s\ncredential's:\n%s",
			survived.errors, other.errors, s.boxes["healthcheck"].logs(30), s.boxes["credential"].logs(30))
	}
	s.requireNoLossNoDup(t, other, mo)
	s.requireNoLossNoDup(t, streams, ms)
	// Each killed stream left a started marker in router-1's spool: its
	// restart meters it as interrupted (docs/metering.md), once.
	if metered := ms.inLedger - (streamsPerRouter - survived.errors); metered != streamsPerRouter {
		t.Errorf("killed streams metered %d of %d; want every one (outcome interrupted)", metered, streamsPerRouter)
	}
}

type streamTally struct {
	errors  int
	lastEnd time.Duration // after the kill
}

// collectStreams waits for every stream and splits them by router; the
// combined tally feeds the ledger check.
func collectStreams(t *testing.T, ends <-chan streamEnd, killedAt time.Time) (killed, survived streamTally, all *tally) {
	t.Helper()
	all = newTally()
	timeout := time.After(90 * time.Second)
	for range 2 * streamsPerRouter {
		select {
		case e := <-ends:
			all.record(200, e.id, 0, e.err)
			side := &survived
			if e.router == "router-1" {
				side = &killed
			}
			if e.err != nil {
				side.errors++
			}
			side.lastEnd = max(side.lastEnd, e.ended.Sub(killedAt))
		case <-timeout:
			t.Fatal("streams still open 90s after the kill")
		}
	}
	return killed, survived, all
}
