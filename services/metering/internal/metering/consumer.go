// Package metering is the metering service: the one durable consumer of
// usage events. It counts every client request exactly once — JetStream
// dedupes retried publishes by Nats-Msg-Id (the request id) within its
// window, the ledger bucket refuses a request id counted before, and each
// rollup records the last stream sequence folded in, which (because events
// are applied strictly in stream order, see sequencer) makes a redelivered
// event a no-op — and it serves usage queries.
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

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// Windows are the rollup granularities.
var Windows = map[string]time.Duration{"minute": time.Minute, "day": 24 * time.Hour}

// Consumer folds usage events into rollups.
type Consumer struct {
	js     jetstream.JetStream
	store  *store.Store
	log    *slog.Logger
	prices Prices
	stats  counters
	// beforeAck runs after a run of events is applied and before it is
	// acked. Tests make it fail to stop a reader in exactly that window.
	beforeAck func(events int) error
}

// NewConsumer returns a consumer over the store; prices may be nil.
func NewConsumer(js jetstream.JetStream, s *store.Store, prices Prices, log *slog.Logger) *Consumer {
	return &Consumer{js: js, store: s, log: log, prices: prices}
}

// Stats returns this consumer's counters.
func (c *Consumer) Stats() Stats { return c.stats.snapshot() }

// Run applies usage events until ctx ends. The durable consumer pins one
// metering replica at a time (priority policy "pinned"); a replica that
// loses its pin, or whose fetch fails, starts a new session from the
// consumer's ack floor. A replica that was paused (not dead) past the pin
// TTL could still finish one run after another took over; that window is
// documented in docs/metering.md.
func (c *Consumer) Run(ctx context.Context, ready func()) error {
	cons, err := c.js.Consumer(ctx, contract.StreamUsage, contract.ConsumerMetering)
	if err != nil {
		return err
	}
	ready()
	for ctx.Err() == nil {
		err := c.session(ctx, cons)
		if ctx.Err() != nil {
			break
		}
		if !errors.Is(err, jetstream.ErrPinIDMismatch) {
			c.log.Warn("usage session ended; starting again from the ack floor", "err", err)
		}
		sleep(ctx, time.Second)
	}
	c.unpin()
	return nil
}

// unpin releases this replica's pin as it stops, so another replica (or
// the restarted process) takes over now rather than after the pin TTL.
func (c *Consumer) unpin() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := c.js.Stream(ctx, contract.StreamUsage)
	if err == nil {
		err = s.UnpinConsumer(ctx, contract.ConsumerMetering, contract.MeteringPriorityGroup)
	}
	if err != nil {
		c.log.Debug("unpin metering consumer", "err", err)
	}
}

// session reads events from the ack floor on and applies them in stream
// order until ctx ends or a fetch fails. Events it still holds when it
// ends are nak'ed so the next session (here or on another replica) gets
// them at once.
func (c *Consumer) session(ctx context.Context, cons jetstream.Consumer) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	seq := newSequencer(info.AckFloor.Stream)
	defer func() {
		for _, m := range seq.release() {
			_ = m.Nak()
		}
		metricHeld.Set(0)
	}()
	lastInfo := time.Now()
	for ctx.Err() == nil {
		if err := c.fetchInto(cons, seq); err != nil {
			return err
		}
		if err := c.applyReady(ctx, seq); err != nil {
			return err
		}
		metricHeld.Set(float64(seq.waiting()))
		if time.Since(lastInfo) >= time.Second {
			lastInfo = time.Now()
			c.refresh(ctx, cons, seq)
		}
	}
	return nil
}

// fetchInto fetches one batch and hands each event to the sequencer;
// redeliveries of events already applied are acked straight away.
func (c *Consumer) fetchInto(cons jetstream.Consumer, seq *sequencer) error {
	batch, err := cons.Fetch(contract.MeteringBatch, jetstream.FetchMaxWait(time.Second),
		jetstream.FetchPriorityGroup(contract.MeteringPriorityGroup))
	if err != nil {
		return err
	}
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			_ = m.Term() // not a JetStream message; cannot be applied in order
			continue
		}
		if meta.NumDelivered > 1 {
			c.stats.redelivered.Add(1)
			metricRedelivered.Inc()
		}
		if !seq.add(meta.Sequence.Stream, m) {
			_ = m.Ack()
		}
	}
	if err := batch.Error(); errors.Is(err, jetstream.ErrPinIDMismatch) {
		return err
	}
	return nil
}

// applyReady applies the contiguous run the sequencer releases, retrying
// until it is applied or ctx ends; only an applied run is acked.
func (c *Consumer) applyReady(ctx context.Context, seq *sequencer) error {
	run := seq.ready()
	if len(run) == 0 {
		return nil
	}
	for {
		start := time.Now()
		err := c.applyRun(ctx, run)
		if err == nil && c.beforeAck != nil {
			if err := c.beforeAck(len(run)); err != nil {
				c.stats.batchFailures.Add(1)
				return err // a simulated crash: no ack, no nak; redelivered after AckWait
			}
		}
		if err == nil {
			for _, m := range run {
				_ = m.Ack()
			}
			metricBatchSeconds.Observe(time.Since(start).Seconds())
			return nil
		}
		c.stats.batchFailures.Add(1)
		metricBatchFailures.Inc()
		if ctx.Err() != nil {
			for _, m := range run {
				_ = m.Nak() // stopping: hand the run to the next reader now, not after AckWait
			}
			return ctx.Err()
		}
		c.log.Warn("usage events not applied; retrying", "events", len(run), "err", err)
		for _, m := range run {
			_ = m.InProgress() // keep them ours while we retry
		}
		sleep(ctx, time.Second)
	}
}

// refresh reads the consumer's state: its backlog for the metrics, and its
// ack floor, which unblocks held events when the gap before them was acked
// by someone else.
func (c *Consumer) refresh(ctx context.Context, cons jetstream.Consumer, seq *sequencer) {
	info, err := cons.Info(ctx)
	if err != nil {
		return
	}
	metricPending.Set(float64(info.NumPending + uint64(info.NumAckPending)))
	if seq.waiting() == 0 {
		return
	}
	for _, m := range seq.advance(info.AckFloor.Stream) {
		_ = m.Ack()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
