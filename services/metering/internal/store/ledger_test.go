package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
)

func newTestJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	ns := natsx.StartTestServer(t)
	js, err := jetstream.New(natsx.TestConn(t, ns, "ledger-test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.EnsureTopology(context.Background(), js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	return js
}

func openStore(t *testing.T, js jetstream.JetStream) *Store {
	t.Helper()
	s, err := Open(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)

func claims(seq uint64, at time.Time, ids ...string) []Claim {
	out := make([]Claim, len(ids))
	for i, id := range ids {
		out[i] = Claim{RequestID: id, Time: at, Seq: seq}
	}
	return out
}

func mustClaim(t *testing.T, s *Store, c []Claim) []bool {
	t.Helper()
	won, err := s.Claim(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return won
}

// TestLedgerClaims covers the decisions one writer makes: new ids win,
// the same sequence wins again (a redelivery), another sequence loses (a
// duplicate), and the first of two claims in one call wins.
func TestLedgerClaims(t *testing.T) {
	s := openStore(t, newTestJS(t))
	mustClaim(t, s, claims(1, t0, "a", "b"))
	cases := []struct {
		name  string
		claim []Claim
		want  []bool
	}{
		{"redelivery of seq 1", claims(1, t0, "a", "b"), []bool{true, true}},
		{"duplicate at seq 2", claims(2, t0, "a"), []bool{false}},
		{"new id, and the same id twice", append(claims(3, t0, "c"), claims(4, t0, "c")...), []bool{true, false}},
		{"other minute", claims(5, t0.Add(time.Minute), "d"), []bool{true}},
	}
	for _, tc := range cases {
		if got := mustClaim(t, s, tc.claim); !slices.Equal(got, tc.want) {
			t.Errorf("%s: won = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestLedgerSurvivesRestart checks that a new metering process (a fresh
// index) reads the minutes back: duplicates are still refused and
// redeliveries still win, also for ids split over several records.
func TestLedgerSurvivesRestart(t *testing.T) {
	js := newTestJS(t)
	first := openStore(t, js)
	ids := make([]string, maxIDsPerRecord+10)
	for i := range ids {
		ids[i] = fmt.Sprintf("req-%d", i)
	}
	mustClaim(t, first, claims(7, t0, ids...))
	restarted := openStore(t, js)
	for _, tc := range []struct {
		seq  uint64
		want bool
	}{{7, true}, {8, false}} {
		won := mustClaim(t, restarted, claims(tc.seq, t0, ids...))
		if n := countTrue(won); (n == len(ids)) != tc.want || (n == 0) == tc.want {
			t.Fatalf("seq %d after restart: %d of %d won; want all=%v", tc.seq, n, len(ids), tc.want)
		}
	}
	all, err := LedgerIDs(context.Background(), js)
	if err != nil || len(all) != len(ids) || all["req-0"] != 7 {
		t.Fatalf("LedgerIDs = %d ids (req-0 at %d), %v; want %d at seq 7", len(all), all["req-0"], err, len(ids))
	}
}

// TestLedgerConcurrentReplicas is the paused-replica window: two indexes
// over one ledger. The second writes after the first without having seen
// its records; its conditional write is refused, it reads the ledger again
// and refuses the first replica's claims as duplicates.
func TestLedgerConcurrentReplicas(t *testing.T) {
	js := newTestJS(t)
	a, b := openStore(t, js), openStore(t, js)
	mustClaim(t, b, claims(1, t0, "warm")) // b's index now holds t0's minute
	mustClaim(t, a, claims(2, t0, "x"))
	if got := mustClaim(t, b, claims(3, t0, "x", "y")); !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("stale replica won = %v; want [false true] (x belongs to seq 2)", got)
	}
	if got := mustClaim(t, a, claims(4, t0, "y")); !slices.Equal(got, []bool{false}) {
		t.Fatalf("first replica claimed y again: %v", got)
	}
}

// TestLedgerEvictionReadsBack fills the index past its budget and checks
// that an evicted minute is read back, not forgotten.
func TestLedgerEvictionReadsBack(t *testing.T) {
	js := newTestJS(t)
	s := openStore(t, js)
	mustClaim(t, s, claims(1, t0, "old"))
	s.ledger.ids += indexBudget // pretend the index is full
	mustClaim(t, s, claims(2, t0.Add(time.Hour), "new"))
	if _, held := s.ledger.minutes[minuteOf(t0)]; held {
		t.Fatal("the least recently used minute was not evicted")
	}
	if got := mustClaim(t, s, claims(3, t0, "old")); !slices.Equal(got, []bool{false}) {
		t.Fatalf("evicted minute forgotten: won = %v", got)
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// TestLedgerHashCollisions makes every id hash alike, so every claim after
// the first takes the exact path: distinct ids still all win, a duplicate
// still loses and a redelivery still wins.
func TestLedgerHashCollisions(t *testing.T) {
	s := openStore(t, newTestJS(t))
	s.ledger.hash = func([]byte) uint64 { return 42 }
	if got := mustClaim(t, s, claims(1, t0, "a", "b")); !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("distinct colliding ids: won = %v", got)
	}
	got := mustClaim(t, s, append(append(claims(1, t0, "a"), claims(2, t0, "b")...), claims(3, t0, "c")...))
	if !slices.Equal(got, []bool{true, false, true}) {
		t.Fatalf("redelivery, duplicate, new: won = %v; want [true false true]", got)
	}
	all, err := LedgerIDs(context.Background(), s.js)
	if err != nil || len(all) != 3 || all["b"] != 1 || all["c"] != 3 {
		t.Fatalf("ledger = %v, %v; want a, b at 1 and c at 3", all, err)
	}
}
