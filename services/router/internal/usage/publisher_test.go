package usage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

var quiet = slog.New(slog.DiscardHandler)

func mustNew(t *testing.T, cfg Config, js jetstream.JetStream) *Publisher {
	t.Helper()
	p, err := New(cfg, js, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnopenableSpoolIsAnError: asking for a durable spool and not getting
// one must stop the router from starting.
func TestUnopenableSpoolIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{SpoolDir: filepath.Join(file, "spool")}, nil, quiet); err == nil {
		t.Fatal("a spool under a regular file opened")
	}
}

// newJS returns a JetStream client on a real server; withStream creates
// Switchyard's topology (without it every publish fails and is retried).
func newJS(t *testing.T, withStream bool) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(natsx.TestConn(t, natsx.StartTestServer(t), "usage-test"))
	if err != nil {
		t.Fatal(err)
	}
	if withStream {
		ensure(t, js)
	}
	return js
}

func ensure(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	if err := contract.EnsureTopology(context.Background(), js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
}

// running starts p and returns a stop that waits for Run to return.
func running(p *Publisher) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

func events(p *Publisher, from, to int) {
	for i := from; i < to; i++ {
		p.Publish(&pb.UsageEvent{RequestId: fmt.Sprintf("req-%d", i), Consumer: "c1", Model: "m", Outcome: "complete"})
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func spoolFiles(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "usage-*.spool"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestSpoolKeepsEventsAcrossRestart: NATS refuses every publish, the
// router stops (drain timeout passes), and the next start publishes every
// spooled event once the stream is there.
func TestSpoolKeepsEventsAcrossRestart(t *testing.T) {
	js := newJS(t, false)
	dir := t.TempDir()
	cfg := Config{SpoolDir: dir, DrainTimeout: 50 * time.Millisecond, SpoolSegmentBytes: 4 << 10}
	first := mustNew(t, cfg, js)
	stop := running(first)
	events(first, 0, 500)
	eventually(t, "500 spooled", func() bool { return first.Stats().Spooled == 500 })
	eventually(t, "publishes refused and retried", func() bool { return first.Stats().Retries > 0 })
	stop()
	if first.Stats().Published != 0 || first.Stats().Retries == 0 {
		t.Fatalf("first run stats %+v; want retries and nothing published", first.Stats())
	}
	ensure(t, js)
	second := mustNew(t, cfg, js)
	defer running(second)()
	eventually(t, "500 in the stream", func() bool { return streamMsgs(t, js) == 500 })
	eventually(t, "replayed segments collected", func() bool { return spoolFiles(t, dir) == 1 })
	if s := second.Stats(); s.Replayed != 500 || s.Dropped != 0 {
		t.Fatalf("second run stats %+v; want 500 replayed, none dropped", s)
	}
}

// TestSpoolReplayIsDeduplicated: events published and acknowledged but
// still on disk (the process died before the segment was collected) are
// replayed at start, and JetStream's dedupe keeps one copy each.
func TestSpoolReplayIsDeduplicated(t *testing.T) {
	js := newJS(t, true)
	dir := t.TempDir()
	cfg := Config{SpoolDir: dir, DrainTimeout: time.Second}
	first := mustNew(t, cfg, js)
	stop := running(first)
	events(first, 0, 100)
	eventually(t, "100 published", func() bool { return first.Stats().Published == 100 })
	crashed := t.TempDir() // what a crash now would leave: the segment, not yet collected
	copySpool(t, dir, crashed)
	stop()
	if n := spoolFiles(t, dir); n != 0 {
		t.Fatalf("a clean stop left %d spool files; want 0 (all acknowledged)", n)
	}
	cfg.SpoolDir = crashed
	second := mustNew(t, cfg, js)
	defer running(second)()
	eventually(t, "replayed", func() bool { return second.Stats().Published == 100 })
	if n := streamMsgs(t, js); n != 100 {
		t.Fatalf("stream holds %d events; want 100 (replays deduplicated)", n)
	}
}

// TestSpoolTornTail: a record cut short by a crash mid-write ends its
// segment; the complete records before it are published.
func TestSpoolTornTail(t *testing.T) {
	js := newJS(t, true)
	dir := t.TempDir()
	s, _, err := openSpool(dir, 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	for i := range 3 {
		id := fmt.Sprintf("torn-%d", i)
		data, _ := proto.Marshal(&pb.UsageEvent{RequestId: id})
		recs = append(recs, record{id: id, payload: data})
	}
	if err := s.append(recs); err != nil {
		t.Fatal(err)
	}
	_ = s.close()
	path := filepath.Join(dir, segmentName(1))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 5}) // header promising 200 bytes, then the crash
	_ = f.Close()
	p := mustNew(t, Config{SpoolDir: dir}, js)
	defer running(p)()
	eventually(t, "three published", func() bool { return p.Stats().Published == 3 })
	eventually(t, "torn segment collected", func() bool { _, err := os.Stat(path); return os.IsNotExist(err) })
}

// TestDropsAreCounted: a full memory queue and a full spool drop events
// and count them; Publish never blocks.
func TestDropsAreCounted(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		run  bool
	}{
		{"memory queue full", Config{Queue: 1024}, false},
		{"spool full", Config{Queue: 1024, SpoolMaxBytes: 2000, DrainTimeout: 10 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.SpoolMaxBytes > 0 {
				tt.cfg.SpoolDir = t.TempDir()
			}
			p := mustNew(t, tt.cfg, newJS(t, false))
			if tt.run {
				defer running(p)()
			}
			start := time.Now()
			for i := range 1500 {
				events(p, i, i+1)
				if tt.run && i%100 == 0 {
					time.Sleep(time.Millisecond) // let the writer fill the spool
				}
			}
			if tt.run {
				eventually(t, "drops counted", func() bool { return p.Stats().Dropped > 0 })
			}
			if d := p.Stats().Dropped; d == 0 {
				t.Fatalf("dropped = 0 after 1500 events; stats %+v", p.Stats())
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("Publish blocked: 1500 events took %v", took)
			}
		})
	}
}

func copySpool(t *testing.T, from, to string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(from, "usage-*.spool"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpoolWriteFailureDuringShutdown: when the spool refuses a write the
// writer hands the batch's events to the workers from memory. If that
// happens while shutdown's drain ends, Run must not close the workers'
// channel under the writer (it once panicked: send on closed channel).
func TestSpoolWriteFailureDuringShutdown(t *testing.T) {
	for round := range 20 {
		js := newJS(t, false) // every publish refused: the workers stay busy retrying
		p := mustNew(t, Config{SpoolDir: t.TempDir(), DrainTimeout: 20 * time.Millisecond}, js)
		_ = p.spool.active.Close() // every append now fails
		stop := running(p)
		done := make(chan struct{})
		var producers sync.WaitGroup
		producers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				events(p, i, i+1)
				time.Sleep(50 * time.Microsecond)
			}
		})
		time.Sleep(30 * time.Millisecond)
		stop() // must return, and without a panic
		close(done)
		producers.Wait()
		if p.Stats().Spooled != 0 {
			t.Fatalf("round %d: %d events spooled to a closed file", round, p.Stats().Spooled)
		}
	}
}
