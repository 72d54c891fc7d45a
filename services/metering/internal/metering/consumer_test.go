package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// rig is a real JetStream server with Switchyard's topology, the usage
// consumer's AckWait shortened so redeliveries come within a test.
type rig struct {
	js    jetstream.JetStream
	store *store.Store
	at    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ns := natsx.StartTestServer(t)
	js, err := jetstream.New(natsx.TestConn(t, ns, "metering-test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	for _, c := range contract.Declare(contract.DefaultOptions()).Consumers {
		c.Config.AckWait = 700 * time.Millisecond
		if _, err := js.UpdateConsumer(ctx, c.Stream, c.Config); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{js: js, store: st, at: time.Now().UTC().Truncate(time.Minute)}
}

// publish sends events for request ids from..to-1 (10 prompt and 3
// completion tokens each), with msgID as the dedupe id.
func (r *rig) publish(t *testing.T, from, to int, msgID func(i int) string) {
	t.Helper()
	for i := from; i < to; i++ {
		ev := &pb.UsageEvent{RequestId: fmt.Sprintf("req-%d", i), Consumer: "c1", Model: "m", Service: "svc",
			PromptTokens: 10, CompletionTokens: 3, Outcome: "complete", Time: timestamppb.New(r.at)}
		data, _ := proto.Marshal(ev)
		if _, err := r.js.Publish(context.Background(), contract.UsageRecorded("c1"), data,
			jetstream.WithMsgID(msgID(i))); err != nil {
			t.Fatal(err)
		}
	}
}

func byRequestID(i int) string { return fmt.Sprintf("req-%d", i) }

// start runs a consumer until the returned stop is called.
func (r *rig) start(t *testing.T, beforeAck func(ctx context.CancelFunc) func(int) error) (*Consumer, func()) {
	t.Helper()
	c := NewConsumer(r.js, r.store, Prices{"m": {Input: 1, Output: 2}}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	if beforeAck != nil {
		c.beforeAck = beforeAck(cancel)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Run(ctx, func() {}) })
	return c, func() { cancel(); wg.Wait() }
}

func (r *rig) minute(t *testing.T) store.Rollup {
	t.Helper()
	rows, err := r.store.Rollups(context.Background(), "minute.>")
	if err != nil || len(rows) != 1 {
		t.Fatalf("minute rollups = %v, %v; want one", rows, err)
	}
	return rows[0]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) counted(t *testing.T, want int64) func() bool {
	return func() bool {
		rows, err := r.store.Rollups(context.Background(), "day.>")
		return err == nil && len(rows) == 1 && rows[0].Requests >= want
	}
}

// TestStoppedAfterRollupWriteBeforeAck is TEST-PLAN row D3: the reader
// stops after the rollups hold a run but before the run is acked. The run
// is redelivered (proved by the redelivery counter) and still counted once,
// while newer events delivered ahead of the redelivery wait their turn.
func TestStoppedAfterRollupWriteBeforeAck(t *testing.T) {
	r := newRig(t)
	r.publish(t, 0, 300, byRequestID)
	var crashed sync.Once
	first, stopFirst := r.start(t, func(cancel context.CancelFunc) func(int) error {
		return func(int) error {
			err := errors.New("injected crash before ack")
			crashed.Do(cancel)
			return err
		}
	})
	waitFor(t, "first reader applied a run", func() bool { return first.Stats().BatchFailures > 0 })
	stopFirst()
	if first.Stats().Applied == 0 {
		t.Fatal("the first reader applied nothing; the crash window was not exercised")
	}
	r.publish(t, 300, 600, byRequestID) // delivered to the next reader before the redelivery
	second, stopSecond := r.start(t, nil)
	defer stopSecond()
	waitFor(t, "all 600 counted", r.counted(t, 600))
	time.Sleep(300 * time.Millisecond) // let any wrongly repeated run land before checking
	got := r.minute(t)
	if got.Requests != 600 || got.PromptTokens != 6000 || got.CompletionTokens != 1800 {
		t.Fatalf("minute rollup = %+v; want 600 requests, 6000 prompt, 1800 completion", got)
	}
	if got.CostNanoUSD != 600*(10*1000+3*2000) {
		t.Fatalf("cost = %d nano-USD; want %d", got.CostNanoUSD, 600*(10*1000+3*2000))
	}
	s := second.Stats()
	if s.Redelivered == 0 {
		t.Fatal("no redelivery observed: the crash-before-ack path was not exercised")
	}
	if s.Applied+first.Stats().Applied != 600 {
		t.Fatalf("applied %d + %d; want 600 in all", first.Stats().Applied, s.Applied)
	}
	t.Logf("first reader applied %d, second %d (redelivered %d)", first.Stats().Applied, s.Applied, s.Redelivered)
}

// TestDuplicateBeyondDedupeWindow is TEST-PLAN row D4: the same request id
// lands twice in the stream (a publisher retried after JetStream's dedupe
// window, simulated with distinct Nats-Msg-Ids); the ledger counts it once.
func TestDuplicateBeyondDedupeWindow(t *testing.T) {
	r := newRig(t)
	r.publish(t, 0, 50, byRequestID)
	r.publish(t, 0, 50, func(i int) string { return fmt.Sprintf("retry-%d", i) })
	c, stop := r.start(t, nil)
	defer stop()
	// Duplicates are counted when claimed, before the run is folded: wait
	// for both.
	waitFor(t, "duplicates seen and the rest applied", func() bool {
		st := c.Stats()
		return st.Duplicates == 50 && st.Applied == 50
	})
	if got := r.minute(t); got.Requests != 50 || got.PromptTokens != 500 {
		t.Fatalf("minute rollup = %+v; want 50 requests, 500 prompt tokens", got)
	}
	for i := range 50 {
		ok, err := r.store.Counted(context.Background(), byRequestID(i))
		if err != nil || !ok {
			t.Fatalf("%s not in the ledger: %v", byRequestID(i), err)
		}
	}
}

// TestRateLimitedCountsApart checks that a refused request is counted as
// rate limited, costs nothing and is not a billable request.
func TestRateLimitedCountsApart(t *testing.T) {
	r := newRig(t)
	ev := &pb.UsageEvent{RequestId: "rl-1", Consumer: "c1", Model: "m", Service: "svc",
		StatusCode: 429, Outcome: OutcomeRateLimited, Time: timestamppb.New(r.at)}
	data, _ := proto.Marshal(ev)
	if _, err := r.js.Publish(context.Background(), contract.UsageRecorded("c1"), data, jetstream.WithMsgID("rl-1")); err != nil {
		t.Fatal(err)
	}
	r.publish(t, 0, 1, byRequestID)
	c, stop := r.start(t, nil)
	defer stop()
	waitFor(t, "both applied", func() bool { return c.Stats().Applied == 2 })
	got := r.minute(t)
	if got.Requests != 1 || got.RateLimited != 1 || got.CostNanoUSD != 10*1000+3*2000 {
		t.Fatalf("minute rollup = %+v; want 1 request, 1 rate limited, cost of one request", got)
	}
}
