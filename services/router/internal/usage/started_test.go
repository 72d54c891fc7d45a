package usage

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

var startTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func request(id string) *pb.UsageEvent {
	return &pb.UsageEvent{RequestId: id, Consumer: "c1", Model: "m", Service: "svc", Protocol: "OPENAI_V1",
		Operation: "chat", Stream: true, Time: timestamppb.New(startTime)}
}

// finish publishes id's final event.
func finish(p *Publisher, id string) {
	ev := request(id)
	ev.Outcome, ev.PromptTokens, ev.CompletionTokens = "complete", 3, 4
	p.Publish(ev)
}

// published reads every usage event in the stream: outcome by request id,
// and how many events each request id has.
func published(t *testing.T, js jetstream.JetStream) (outcome map[string]string, count map[string]int) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outcome, count = map[string]string{}, map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var ev pb.UsageEvent
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		outcome[ev.GetRequestId()] = ev.GetOutcome()
		count[ev.GetRequestId()]++
	}
	return outcome, count
}

// TestCrashMetersUnfinishedRequestsAsInterrupted: ten requests start, five
// finish, the router "dies" (its spool is copied as it is, the publisher
// abandoned without a stop). A new publisher on that spool, against a
// fresh NATS, publishes exactly one interrupted event for each unfinished
// request, with its marker's fields and no tokens, and none for the
// finished ones (their final events are replayed). A second crash during
// that replay synthesizes nothing new: the interrupted events are final
// events on disk by then.
func TestCrashMetersUnfinishedRequestsAsInterrupted(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SpoolDir: dir, BatchMax: 1, StartWait: 5 * time.Second}
	first := mustNew(t, cfg, newJS(t, true))
	defer running(first)()
	for i := range 10 {
		first.Start(context.Background(), request(fmt.Sprintf("r-%d", i)))
	}
	for i := range 5 {
		finish(first, fmt.Sprintf("r-%d", i))
	}
	eventually(t, "finals published", func() bool { return first.Stats().Published == 5 })
	crashed := t.TempDir()
	copySpool(t, dir, crashed)

	cfg.SpoolDir = crashed
	second := mustNew(t, cfg, newJS(t, true)) // writes the interrupted events before Run
	if got := second.Stats().Interrupted; got != 5 {
		t.Fatalf("%d interrupted events synthesized; want 5", got)
	}
	crashedAgain := t.TempDir()
	copySpool(t, crashed, crashedAgain)

	cfg.SpoolDir = crashedAgain
	js := newJS(t, true)
	third := mustNew(t, cfg, js)
	defer running(third)()
	if got := third.Stats().Interrupted; got != 0 {
		t.Fatalf("the replay after a crash during a replay synthesized %d more; want 0", got)
	}
	eventually(t, "replayed", func() bool { return third.Stats().Published == 10 })
	outcome, count := published(t, js)
	for i := range 10 {
		id, want := fmt.Sprintf("r-%d", i), "complete"
		if i >= 5 {
			want = OutcomeInterrupted
		}
		if outcome[id] != want || count[id] != 1 {
			t.Fatalf("%s: %d events, outcome %q; want one, %q (all: %v)", id, count[id], outcome[id], want, outcome)
		}
	}
	if len(outcome) != 10 {
		t.Fatalf("%d request ids published; want 10: %v", len(outcome), outcome)
	}
}

// TestMarkerOutlivesItsSegment: a long request's marker sits in a segment
// whose events are all acknowledged. The segment is deleted (the marker is
// carried forward, the spool does not grow), yet a crash still meters the
// long request as interrupted, exactly once.
func TestMarkerOutlivesItsSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SpoolDir: dir, BatchMax: 1, SpoolSegmentBytes: 1 << 10, StartWait: 5 * time.Second}
	first := mustNew(t, cfg, newJS(t, true))
	defer running(first)()
	first.Start(context.Background(), request("long"))
	for i := range 200 {
		id := fmt.Sprintf("short-%d", i)
		first.Start(context.Background(), request(id))
		finish(first, id)
	}
	eventually(t, "shorts published", func() bool { return first.Stats().Published == 200 })
	eventually(t, "finished segments deleted despite the open marker", func() bool { return spoolFiles(t, dir) <= 2 })
	crashed := t.TempDir()
	copySpool(t, dir, crashed)

	cfg.SpoolDir = crashed
	js := newJS(t, true)
	second := mustNew(t, cfg, js)
	defer running(second)()
	if got := second.Stats().Interrupted; got != 1 {
		t.Fatalf("%d interrupted events; want 1 (the long request)", got)
	}
	eventually(t, "interrupted published", func() bool { o, _ := published(t, js); return o["long"] != "" })
	outcome, count := published(t, js)
	if outcome["long"] != OutcomeInterrupted || count["long"] != 1 {
		t.Fatalf("long: %d events, outcome %q", count["long"], outcome["long"])
	}
	for id, o := range outcome {
		if id != "long" && o != "complete" {
			t.Fatalf("%s published as %q; a finished request must never be interrupted", id, o)
		}
	}
}

// TestStartIsDurableWhenItReturns: once Start returns the marker is on
// disk (what the edge relies on before calling the upstream), and a
// finished request leaves no spool behind at a clean stop.
func TestStartIsDurableWhenItReturns(t *testing.T) {
	dir := t.TempDir()
	p := mustNew(t, Config{SpoolDir: dir, StartWait: 5 * time.Second}, newJS(t, true))
	stop := running(p)
	p.Start(context.Background(), request("a"))
	onDisk := t.TempDir()
	copySpool(t, dir, onDisk)
	s, _, err := openSpool(onDisk, 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	markers, _ := s.scanLeft()
	_ = s.close()
	if len(markers) != 1 || markers[0].GetRequestId() != "a" || markers[0].GetOutcome() != OutcomeStarted {
		t.Fatalf("markers on disk after Start returned: %v", markers)
	}
	finish(p, "a")
	eventually(t, "published", func() bool { return p.Stats().Published == 1 })
	stop()
	if n := spoolFiles(t, dir); n != 0 {
		t.Fatalf("a clean stop with every request finished left %d spool files", n)
	}
}

// TestStartWithoutSpoolIsFree: without a spool Start neither blocks nor
// queues anything.
func TestStartWithoutSpoolIsFree(t *testing.T) {
	p := mustNew(t, Config{StartWait: time.Hour}, nil)
	p.Start(context.Background(), request("a"))
	if s := p.Stats(); s.Queued != 0 || len(p.intake) != 0 {
		t.Fatalf("Start without a spool queued something: %+v", s)
	}
}

// TestInterruptedFromDiskStates: what a previous run left on disk decides
// how many interrupted events the next start makes, one per request at
// most (a crash mid-carry leaves a marker in two segments).
func TestInterruptedFromDiskStates(t *testing.T) {
	marker := func(id string) record {
		ev := request(id)
		ev.Outcome = OutcomeStarted
		data, _ := proto.Marshal(ev)
		return record{id: id, payload: data, marker: true}
	}
	final := func(id string) record {
		ev := request(id)
		ev.Outcome = "complete"
		data, _ := proto.Marshal(ev)
		return record{id: id, payload: data}
	}
	tests := []struct {
		name     string
		segments [][]record
		want     int64
	}{
		{"marker only", [][]record{{marker("x")}}, 1},
		{"marker and final, one segment", [][]record{{marker("x"), final("x")}}, 0},
		{"final in a later segment", [][]record{{marker("x")}, {final("x")}}, 0},
		{"marker in two segments (crash mid-carry)", [][]record{{marker("x")}, {marker("x")}}, 1},
		{"final only (marker deleted with its segment)", [][]record{{final("x")}}, 0},
		{"two requests, one finished", [][]record{{marker("x"), marker("y")}, {final("y")}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _, err := openSpool(dir, 1<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			for i, recs := range tt.segments {
				if i > 0 {
					if err := s.rotate(uint64(i + 1)); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.append(recs); err != nil {
					t.Fatal(err)
				}
			}
			_ = s.close()
			p := mustNew(t, Config{SpoolDir: dir}, nil)
			defer func() { _ = p.spool.close() }()
			if got := p.Stats().Interrupted; got != tt.want {
				t.Fatalf("%d interrupted events; want %d", got, tt.want)
			}
		})
	}
}

// BenchmarkStartParallel is the request-path cost of a started marker:
// queueing it and waiting for the group commit that makes it durable,
// with concurrent requests sharing fsyncs.
func BenchmarkStartParallel(b *testing.B) {
	js, err := jetstream.New(natsx.TestConn(b, natsx.StartTestServer(b), "usage-bench"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(Config{SpoolDir: b.TempDir(), StartWait: time.Second}, js, quiet)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Start(ctx, request(fmt.Sprintf("b-%d", n.Add(1))))
		}
	})
}
