package metering

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// OutcomeRateLimited marks a request a rate limit refused: it is counted
// in the rollup's RateLimited, not in Requests, and costs nothing.
const OutcomeRateLimited = "rate_limited"

// parallelism bounds concurrent rollup writes within one run. Rollups are
// distinct keys, so their order does not matter; only the order of runs
// does, and runs are applied one after another.
const parallelism = 16

type event struct {
	seq  uint64
	pos  int // index in the run's events; events of one batch share seq
	ev   *pb.UsageEvent
	cost int64
}

// applyRun claims every event's request id, folds the fresh ones into
// their rollups (one compare-and-set per rollup, not per event) and
// publishes the updated rollups. Retrying a partly applied run is safe:
// claims by the same sequence succeed again and rollups skip sequences
// they already hold.
func (c *Consumer) applyRun(ctx context.Context, run []jetstream.Msg) error {
	events := c.decode(run)
	fresh, err := c.claim(ctx, events)
	if err != nil {
		return err
	}
	folded, err := c.foldAll(ctx, group(fresh))
	if err != nil {
		return err
	}
	var newest time.Time
	for _, e := range fresh {
		if folded[e.pos] {
			c.stats.applied.Add(1)
			metricApplied.WithLabelValues(e.ev.GetOutcome()).Inc()
		}
		newest = maxTime(newest, e.ev.GetTime().AsTime())
	}
	if !newest.IsZero() {
		metricLag.Set(time.Since(newest).Seconds())
	}
	return nil
}

func (c *Consumer) decode(run []jetstream.Msg) []event {
	out := make([]event, 0, len(run))
	for _, m := range run {
		meta, _ := m.Metadata() // checked by fetchInto
		seq := meta.Sequence.Stream
		payloads, err := usagePayloads(m)
		if err != nil {
			c.undecodable(seq, err)
		}
		var inBatch map[string]bool // a request id twice in one batch would claim twice with one seq
		if len(payloads) > 1 {
			inBatch = make(map[string]bool, len(payloads))
		}
		for _, data := range payloads {
			var ev pb.UsageEvent
			if err := proto.Unmarshal(data, &ev); err != nil || ev.GetRequestId() == "" {
				c.undecodable(seq, err)
				continue
			}
			if inBatch != nil {
				if inBatch[ev.GetRequestId()] {
					c.stats.duplicates.Add(1)
					metricDuplicates.Inc()
					continue
				}
				inBatch[ev.GetRequestId()] = true
			}
			out = append(out, event{seq: seq, pos: len(out), ev: &ev, cost: c.prices.CostNanoUSD(&ev)})
		}
	}
	return out
}

func (c *Consumer) undecodable(seq uint64, err error) {
	c.stats.undecodable.Add(1)
	metricUndecodable.Inc()
	c.log.Error("dropping undecodable usage event", "seq", seq, "err", err)
}

// claim records each request id in the ledger (one write per event minute
// for the whole run, not one per id) and returns the events that hold
// their claim (a duplicate of a request counted by another event is
// dropped here).
func (c *Consumer) claim(ctx context.Context, events []event) ([]event, error) {
	claims := make([]store.Claim, len(events))
	for i, e := range events {
		claims[i] = store.Claim{RequestID: e.ev.GetRequestId(), Time: e.ev.GetTime().AsTime(), Seq: e.seq}
	}
	won, err := c.store.Claim(ctx, claims)
	if err != nil {
		return nil, err
	}
	fresh := events[:0:0]
	for i, e := range events {
		if won[i] {
			fresh = append(fresh, e)
			continue
		}
		c.stats.duplicates.Add(1)
		metricDuplicates.Inc()
		c.log.Info("duplicate usage event ignored", "request_id", e.ev.GetRequestId(), "seq", e.seq)
	}
	return fresh, nil
}

// rollupGroup is the events of one run that fall into one rollup.
type rollupGroup struct {
	window string
	size   time.Duration
	events []event
}

func group(events []event) map[string]*rollupGroup {
	groups := map[string]*rollupGroup{}
	for _, e := range events {
		for window, size := range Windows {
			key := rollupKey(window, size, e.ev)
			g := groups[key]
			if g == nil {
				g = &rollupGroup{window: window, size: size}
				groups[key] = g
			}
			g.events = append(g.events, e)
		}
	}
	return groups
}

// foldAll writes every group into its rollup and reports which sequences
// were folded into at least one rollup now (not before a crash).
func (c *Consumer) foldAll(ctx context.Context, groups map[string]*rollupGroup) (map[int]bool, error) {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	var mu sync.Mutex
	folded := map[int]bool{}
	err := forEach(len(keys), func(i int) error {
		g := groups[keys[i]]
		var now []int
		r, err := c.store.Apply(ctx, keys[i], func(r *store.Rollup) bool {
			now = now[:0]
			// Compare with LastSeq as stored: the events of one batch share a
			// sequence, and folding the first must not skip the others.
			last := r.LastSeq
			for _, e := range g.events {
				if e.seq > last { // at or below: folded in before a crash
					fold(r, g.window, g.size, e)
					now = append(now, e.pos)
				}
			}
			return len(now) > 0
		})
		if err != nil {
			return err
		}
		mu.Lock()
		for _, s := range now {
			folded[s] = true
		}
		mu.Unlock()
		if r != nil {
			c.stats.rollupWrites.Add(1)
			metricRollupWrites.WithLabelValues(g.window).Inc()
			c.publishRollup(ctx, r)
		}
		return nil
	})
	return folded, err
}

func rollupKey(window string, size time.Duration, ev *pb.UsageEvent) string {
	r := store.Rollup{Window: window, Start: ev.GetTime().AsTime().Truncate(size),
		Consumer: ev.GetConsumer(), Model: ev.GetModel(), Service: ev.GetService()}
	return r.Key()
}

func fold(r *store.Rollup, window string, size time.Duration, e event) {
	ev := e.ev
	r.Window, r.Start = window, ev.GetTime().AsTime().Truncate(size).UTC()
	r.Consumer, r.Model, r.Service = ev.GetConsumer(), ev.GetModel(), ev.GetService()
	r.LastSeq = e.seq
	if ev.GetOutcome() == OutcomeRateLimited {
		r.RateLimited++
		return
	}
	r.Requests++
	if ev.GetOutcome() != "complete" {
		r.Errors++
	}
	r.PromptTokens += max(ev.GetPromptTokens(), 0)
	r.CompletionTokens += max(ev.GetCompletionTokens(), 0)
	r.CachedTokens += max(ev.GetCachedTokens(), 0)
	r.ReasoningTokens += max(ev.GetReasoningTokens(), 0)
	r.LatencyMs += max(ev.GetLatencyMs(), 0)
	r.TTFTMs += max(ev.GetTtftMs(), 0)
	r.CostNanoUSD += e.cost
	r.CostUSD = float64(r.CostNanoUSD) / 1e9
}

func (c *Consumer) publishRollup(ctx context.Context, r *store.Rollup) {
	data, err := proto.Marshal(ToRow(r))
	if err == nil {
		_, err = c.js.PublishAsync(contract.RollupPublished(r.Window), data)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		c.log.Debug("publish rollup", "err", err)
	}
}

// forEach runs fn(0..n-1) with bounded parallelism and returns the first
// error.
func forEach(n int, fn func(i int) error) error {
	sem := make(chan struct{}, parallelism)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
