// Package usage publishes the router's usage events: one per client
// request, off the request path. Events queue in memory and a few workers
// publish them to JetStream with the request id as Nats-Msg-Id, retrying
// with the same id until the stream acknowledges, so a retry after a lost
// ack is deduplicated by JetStream and counted once by metering.
package usage

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Config sizes the publisher.
type Config struct {
	// Queue is how many events may wait while NATS is slow or away.
	Queue int
	// Workers publish concurrently.
	Workers int
	// DrainTimeout bounds how long shutdown waits for queued events.
	DrainTimeout time.Duration
}

// Publisher sends usage events asynchronously.
type Publisher struct {
	cfg   Config
	js    jetstream.JetStream
	log   *slog.Logger
	queue chan *pb.UsageEvent

	published atomic.Int64
	retries   atomic.Int64
	dropped   atomic.Int64
}

// New returns a publisher; call Run to start it.
func New(cfg Config, js jetstream.JetStream, log *slog.Logger) *Publisher {
	cfg.Queue = max(cfg.Queue, 1024)
	cfg.Workers = max(cfg.Workers, 1)
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	return &Publisher{cfg: cfg, js: js, log: log, queue: make(chan *pb.UsageEvent, cfg.Queue)}
}

// Publish queues ev without blocking. A full queue means NATS has been
// unreachable for a long time; the event is dropped and counted so an
// alert can fire (see docs/metering.md for sizing).
func (p *Publisher) Publish(ev *pb.UsageEvent) {
	select {
	case p.queue <- ev:
	default:
		if p.dropped.Add(1)%1000 == 1 {
			p.log.Error("usage queue full; events dropped", "dropped_total", p.dropped.Load(), "queue", p.cfg.Queue)
		}
	}
}

// Stats are the publisher's counters.
type Stats struct{ Published, Retries, Dropped, Queued int64 }

// Stats returns the counters.
func (p *Publisher) Stats() Stats {
	return Stats{p.published.Load(), p.retries.Load(), p.dropped.Load(), int64(len(p.queue))}
}

// Run publishes until ctx ends, then drains the queue for up to
// DrainTimeout.
func (p *Publisher) Run(ctx context.Context) {
	drainCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	for range p.cfg.Workers {
		go func() {
			p.work(ctx, drainCtx)
			done <- struct{}{}
		}()
	}
	<-ctx.Done()
	time.AfterFunc(p.cfg.DrainTimeout, cancel)
	for range p.cfg.Workers {
		<-done
	}
	if n := len(p.queue); n > 0 {
		p.log.Error("usage events not published at shutdown", "count", n)
	}
}

// work publishes queued events; after ctx ends it keeps going until the
// queue is empty or drainCtx ends.
func (p *Publisher) work(ctx, drainCtx context.Context) {
	for {
		select {
		case ev := <-p.queue:
			p.send(drainCtx, ev)
		case <-ctx.Done():
			for {
				select {
				case ev := <-p.queue:
					p.send(drainCtx, ev)
				default:
					return
				}
			}
		}
	}
}

func (p *Publisher) send(ctx context.Context, ev *pb.UsageEvent) {
	data, err := proto.Marshal(ev)
	if err != nil {
		p.log.Error("encode usage event", "err", err)
		return
	}
	subject := contract.UsageRecorded(ev.GetConsumer())
	for attempt := 0; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = p.js.Publish(pctx, subject, data, jetstream.WithMsgID(ev.GetRequestId()))
		cancel()
		if err == nil {
			p.published.Add(1)
			return
		}
		if ctx.Err() != nil {
			p.log.Error("usage event not published", "request_id", ev.GetRequestId(), "err", err)
			return
		}
		p.retries.Add(1)
		if attempt%10 == 0 {
			p.log.Warn("usage publish failed; retrying with the same id", "request_id", ev.GetRequestId(),
				"attempt", attempt+1, "err", err, "stream_full", errors.Is(err, jetstream.ErrNoStreamResponse))
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
}
