// Package metering is the metering service: the one durable consumer of
// usage events. It counts every client request exactly once — JetStream
// dedupes retried publishes by Nats-Msg-Id (the request id) within its
// window, the ledger bucket refuses a request id counted before, and each
// rollup records the last stream sequence folded in so a redelivered event
// is never added twice — and it serves usage queries.
//
// Owns: sy_usage (rollups) and sy_usage_ledger.
// Consumes: SY_USAGE via the durable "metering" consumer.
// Publishes: sy.evt.metering.rollup.<window>.
// Serves: sy.admin.v1.usage.query.
package metering

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// Windows are the rollup granularities.
var Windows = map[string]time.Duration{"minute": time.Minute, "day": 24 * time.Hour}

// Consumer folds usage events into rollups.
type Consumer struct {
	js    jetstream.JetStream
	store *store.Store
	log   *slog.Logger
}

// NewConsumer returns a consumer over the store.
func NewConsumer(js jetstream.JetStream, s *store.Store, log *slog.Logger) *Consumer {
	return &Consumer{js: js, store: s, log: log}
}

// Run fetches and applies batches until ctx ends. A batch is applied in
// stream order and acked only when fully applied; on failure nothing is
// acked and JetStream redelivers the batch, in order, after AckWait. The
// consumer pins one replica at a time (priority policy "pinned"), so events
// are applied by a single reader in stream order, which the per-rollup
// LastSeq check relies on. A replica that was paused (not dead) past the
// pin TTL could still finish one batch after another took over; that
// window is one batch and is documented in docs/metering.md.
func (c *Consumer) Run(ctx context.Context, ready func()) error {
	cons, err := c.js.Consumer(ctx, contract.StreamUsage, contract.ConsumerMetering)
	if err != nil {
		return err
	}
	ready()
	for ctx.Err() == nil {
		batch, err := cons.Fetch(contract.MeteringBatch, jetstream.FetchMaxWait(time.Second),
			jetstream.FetchPriorityGroup(contract.MeteringPriorityGroup))
		if err != nil {
			c.log.Warn("fetch usage events", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && len(msgs) == 0 {
			c.log.Debug("fetch ended", "err", err)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := c.applyBatch(ctx, msgs); err != nil {
			c.log.Warn("usage batch not applied; it will be redelivered", "events", len(msgs), "err", err)
			sleep(ctx, time.Second)
			continue
		}
		for _, m := range msgs {
			_ = m.Ack()
		}
	}
	return nil
}

func (c *Consumer) applyBatch(ctx context.Context, msgs []jetstream.Msg) error {
	for _, m := range msgs {
		if err := c.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (c *Consumer) apply(ctx context.Context, m jetstream.Msg) error {
	meta, err := m.Metadata()
	if err != nil {
		return err
	}
	var ev pb.UsageEvent
	if err := proto.Unmarshal(m.Data(), &ev); err != nil || ev.GetRequestId() == "" {
		c.log.Error("dropping undecodable usage event", "seq", meta.Sequence.Stream, "err", err)
		return nil
	}
	seq := meta.Sequence.Stream
	fresh, err := c.store.Claim(ctx, ev.GetRequestId(), seq)
	if err != nil {
		return err
	}
	if !fresh {
		c.log.Info("duplicate usage event ignored", "request_id", ev.GetRequestId(), "seq", seq)
		return nil
	}
	for window, size := range Windows {
		r, err := c.store.Apply(ctx, rollupKey(window, size, &ev), func(r *store.Rollup) bool {
			if r.LastSeq >= seq {
				return false // folded in before a crash; redelivered
			}
			fold(r, window, size, &ev, seq)
			return true
		})
		if err != nil {
			return err
		}
		c.publishRollup(ctx, r)
	}
	return nil
}

func rollupKey(window string, size time.Duration, ev *pb.UsageEvent) string {
	r := store.Rollup{Window: window, Start: ev.GetTime().AsTime().Truncate(size),
		Consumer: ev.GetConsumer(), Model: ev.GetModel(), Service: ev.GetService()}
	return r.Key()
}

func fold(r *store.Rollup, window string, size time.Duration, ev *pb.UsageEvent, seq uint64) {
	r.Window, r.Start = window, ev.GetTime().AsTime().Truncate(size).UTC()
	r.Consumer, r.Model, r.Service = ev.GetConsumer(), ev.GetModel(), ev.GetService()
	r.Requests++
	if ev.GetOutcome() != "complete" {
		r.Errors++
	}
	r.PromptTokens += max(ev.GetPromptTokens(), 0)
	r.CompletionTokens += max(ev.GetCompletionTokens(), 0)
	r.CachedTokens += max(ev.GetCachedTokens(), 0)
	r.ReasoningTokens += max(ev.GetReasoningTokens(), 0)
	r.LastSeq = seq
}

func (c *Consumer) publishRollup(ctx context.Context, r *store.Rollup) {
	if r == nil {
		return
	}
	data, err := proto.Marshal(ToRow(r))
	if err == nil {
		_, err = c.js.PublishAsync(contract.RollupPublished(r.Window), data)
	}
	if err != nil {
		c.log.Debug("publish rollup", "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
