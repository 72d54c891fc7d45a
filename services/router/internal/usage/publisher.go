// Package usage publishes the router's usage events: one per client
// request, off the request path. Publish never blocks: it hands the event
// to a bounded in-memory intake. A few workers publish to JetStream with
// the request id as Nats-Msg-Id, retrying with the same id until the
// stream acknowledges, so a retry after a lost ack is deduplicated by
// JetStream and counted once by metering.
//
// With a spool directory the intake is written to an append-only on-disk
// spool (fsynced once per batch) before it is published, and events are
// deleted from disk only once JetStream acknowledged them, so a router
// crash or restart loses at most the batch not yet fsynced (see
// docs/metering.md for the exact window). Without one, events wait in
// memory and a crash loses what was queued.
package usage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
)

// Config sizes the publisher.
type Config struct {
	// Queue is how many events may wait in memory for the spool writer
	// (or, without a spool, for NATS).
	Queue int
	// Workers publish concurrently.
	Workers int
	// DrainTimeout bounds how long shutdown keeps publishing. With a spool
	// what is left stays on disk for the next start.
	DrainTimeout time.Duration
	// SpoolDir enables the on-disk spool; empty keeps events in memory only.
	SpoolDir string
	// SpoolMaxBytes bounds the spool; past it events are dropped and counted.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is when the spool starts a new file.
	SpoolSegmentBytes int64
	// BatchMax is how many events of one consumer may share one JetStream
	// message; 1 or less publishes one message per event.
	BatchMax int
	// BatchLinger is how long a batch waits for more events once it has
	// its first.
	BatchLinger time.Duration
	// StartWait bounds how long Start waits for a request's started marker
	// to be fsynced before the request goes upstream (0: do not wait).
	StartWait time.Duration
}

// RegisterFlags adds the publisher's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&c.Queue, prefix+"usage-queue", 100000, "usage events held in memory while NATS (or the spool disk) is slow")
	fs.IntVar(&c.Workers, prefix+"usage-publishers", 4, "concurrent usage publishers")
	fs.DurationVar(&c.DrainTimeout, prefix+"usage-drain-timeout", 10*time.Second, "how long shutdown keeps publishing queued usage events")
	fs.StringVar(&c.SpoolDir, prefix+"usage-spool-dir", "", "directory of the on-disk usage spool, so queued usage events survive a router restart or crash (empty: memory only)")
	fs.Int64Var(&c.SpoolMaxBytes, prefix+"usage-spool-max-bytes", 1<<30, "largest usage spool on disk; events beyond it are dropped and counted")
	fs.IntVar(&c.BatchMax, prefix+"usage-batch-max", 256, "usage events of one consumer per JetStream message (1: one message per event; more divides the stream's write+fsync+ack cost, see BENCHMARKS.md)")
	fs.DurationVar(&c.BatchLinger, prefix+"usage-batch-linger", 50*time.Millisecond, "how long a usage batch waits for more events (with -usage-batch-max > 1; each JetStream message costs the stream a write, an fsync and an ack, see BENCHMARKS.md)")
	fs.DurationVar(&c.StartWait, prefix+"usage-start-wait", 100*time.Millisecond, "with a spool: how long a request waits for its started marker to be fsynced before it goes upstream (0: do not wait; a crash right after the upstream call may then go unmetered)")
}

// Publisher sends usage events asynchronously.
type Publisher struct {
	cfg    Config
	js     jetstream.JetStream
	log    *slog.Logger
	intake chan entry
	spool  *spool
	// replayBelow: spool segments with a smaller id were left by a
	// previous run.
	replayBelow uint64

	published, retries, dropped, queued, spooled, replayed, interrupted atomic.Int64
}

// entry is what waits in the intake: a final usage event, or (synced set)
// a request's started marker.
type entry struct {
	ev     *pb.UsageEvent
	synced chan struct{} // closed once the marker's write was attempted
}

// New returns a publisher; call Run to start it. A spool directory that
// cannot be opened is an error: an operator who asked for durable usage
// must not silently get memory only.
func New(cfg Config, js jetstream.JetStream, log *slog.Logger) (*Publisher, error) {
	cfg.Queue = max(cfg.Queue, 1024)
	cfg.Workers = max(cfg.Workers, 1)
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.SpoolMaxBytes <= 0 {
		cfg.SpoolMaxBytes = 1 << 30
	}
	if cfg.SpoolSegmentBytes <= 0 {
		cfg.SpoolSegmentBytes = 8 << 20
	}
	if cfg.BatchLinger <= 0 {
		cfg.BatchLinger = 10 * time.Millisecond
	}
	p := &Publisher{cfg: cfg, js: js, log: log, intake: make(chan entry, cfg.Queue)}
	if cfg.SpoolDir != "" {
		s, left, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, cfg.SpoolSegmentBytes)
		if err != nil {
			return nil, fmt.Errorf("usage spool %s: %w (fix -usage-spool-dir, or leave it empty to keep usage events in memory only)", cfg.SpoolDir, err)
		}
		p.spool, p.replayBelow = s, s.segs[len(s.segs)-1].id
		if left > 0 {
			log.Info("usage spool holds events from a previous run; publishing them again", "bytes", left)
			if err := p.resolveInterrupted(); err != nil {
				_ = s.close()
				return nil, fmt.Errorf("usage spool %s: %w", cfg.SpoolDir, err)
			}
		}
	}
	return p, nil
}

// Publish queues ev without blocking and records the request's metrics. A
// full queue means NATS (or the spool disk) has been unavailable for long;
// the event is dropped and counted so an alert can fire.
func (p *Publisher) Publish(ev *pb.UsageEvent) {
	metrics.ObserveUsage(ev)
	select {
	case p.intake <- entry{ev: ev}:
		p.addQueued(1)
	default:
		p.drop("queue_full", 1)
	}
}

func (p *Publisher) drop(reason string, n int) {
	metrics.UsageDropped.WithLabelValues(reason).Add(float64(n))
	if total := p.dropped.Add(int64(n)); total%1000 < int64(n) || n > 1 {
		p.log.Error("usage events dropped", "reason", reason, "count", n, "dropped_total", total, "queue", p.cfg.Queue)
	}
}

func (p *Publisher) addQueued(n int64) {
	metrics.UsageQueued.Set(float64(p.queued.Add(n)))
}

// Stats are the publisher's counters. Interrupted counts the events
// synthesized at start for requests a previous run never finished.
type Stats struct{ Published, Retries, Dropped, Queued, Spooled, Replayed, Interrupted int64 }

// Stats returns the counters. Queued is events accepted and not yet
// acknowledged by JetStream.
func (p *Publisher) Stats() Stats {
	return Stats{p.published.Load(), p.retries.Load(), p.dropped.Load(), p.queued.Load(),
		p.spooled.Load(), p.replayed.Load(), p.interrupted.Load()}
}

// item is one event, or a batch of one consumer's events, on its way to
// JetStream.
type item struct {
	id, subject string
	data        []byte
	batch       bool       // data is UsageBatchFormat (with n events)
	n           int        // events carried
	segs        []*segment // spool segment of each spooled event
}

// Run publishes until ctx ends, then drains for up to DrainTimeout.
func (p *Publisher) Run(ctx context.Context) {
	drainCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.cfg.DrainTimeout, cancel) })
	defer stop()
	work := make(chan item)
	var workers sync.WaitGroup
	for range p.cfg.Workers {
		workers.Go(func() {
			for it := range work {
				p.send(drainCtx, it)
			}
		})
	}
	feed := work
	if p.cfg.BatchMax > 1 {
		feed = make(chan item)
		workers.Go(func() { p.batch(drainCtx, feed, work) }) // closes work when feed is closed
	}
	if p.spool == nil {
		p.feedFromMemory(ctx, drainCtx, feed)
	} else {
		p.feedFromSpool(ctx, drainCtx, feed)
	}
	close(feed)
	workers.Wait()
	if n := p.queued.Load(); n > 0 {
		where := "lost (no spool)"
		if p.spool != nil {
			where = "kept in the spool for the next start"
		}
		p.log.Warn("usage events not published at shutdown", "count", n, "they_are", where)
	}
	if p.spool != nil {
		_ = p.spool.close()
	}
}

// feedFromMemory hands queued events to the workers until ctx ends, then
// until the queue is empty or drainCtx ends.
func (p *Publisher) feedFromMemory(ctx, drainCtx context.Context, work chan<- item) {
	for {
		var e entry
		select {
		case e = <-p.intake:
		case <-ctx.Done():
			select {
			case e = <-p.intake:
			default:
				return
			}
		}
		ev := e.ev
		it, ok := p.encode(ev)
		if !ok {
			continue
		}
		select {
		case work <- it:
		case <-drainCtx.Done():
			return
		}
	}
}

func (p *Publisher) encode(ev *pb.UsageEvent) (item, bool) {
	data, err := proto.Marshal(ev)
	if err != nil {
		p.log.Error("encode usage event", "request_id", ev.GetRequestId(), "err", err)
		p.addQueued(-1)
		return item{}, false
	}
	return item{id: ev.GetRequestId(), subject: contract.UsageRecorded(ev.GetConsumer()), data: data, n: 1}, true
}

// send publishes it, retrying with the same Nats-Msg-Id until JetStream
// acknowledges or ctx ends.
func (p *Publisher) send(ctx context.Context, it item) {
	for attempt := 0; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := p.js.PublishMsg(pctx, it.msg(), jetstream.WithMsgID(it.id))
		cancel()
		if err == nil {
			p.published.Add(int64(it.n))
			metrics.UsagePublished.Add(float64(it.n))
			p.addQueued(-int64(it.n))
			for _, seg := range it.segs {
				p.spool.done(seg)
			}
			if len(it.segs) > 0 {
				metrics.UsageSpoolBytes.Set(float64(p.spool.bytes()))
			}
			return
		}
		if ctx.Err() != nil {
			return // spooled: published again at the next start; else counted as not published
		}
		p.retries.Add(1)
		metrics.UsageRetries.Inc()
		if attempt%10 == 0 {
			p.log.Warn("usage publish failed; retrying with the same id", "request_id", it.id,
				"attempt", attempt+1, "err", err, "stream_full", errors.Is(err, jetstream.ErrNoStreamResponse))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
}
