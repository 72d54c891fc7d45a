// Package store keeps metering's state in JetStream KV: the ledger of
// request ids already counted (sy_usage_ledger) and the rollups
// (sy_usage). Each rollup remembers the last usage-stream sequence applied
// to it, which is what makes re-applying a redelivered event a no-op.
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
)

// Rollup is the sums of one window for one consumer, model and service.
type Rollup struct {
	Window           string    `json:"window"`
	Start            time.Time `json:"start"`
	Consumer         string    `json:"consumer"`
	Model            string    `json:"model"`
	Service          string    `json:"service"`
	Requests         int64     `json:"requests"`
	Errors           int64     `json:"errors"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CachedTokens     int64     `json:"cached_tokens"`
	ReasoningTokens  int64     `json:"reasoning_tokens"`
	// RateLimited counts requests refused by a rate limit; they are not in
	// Requests (nothing reached an upstream, nothing is billable).
	RateLimited int64 `json:"rate_limited,omitempty"`
	// LatencyMs and TTFTMs are sums, so a dashboard divides by Requests.
	LatencyMs int64 `json:"latency_ms_sum,omitempty"`
	TTFTMs    int64 `json:"ttft_ms_sum,omitempty"`
	// CostNanoUSD is the spend at the prices in force when each event was
	// folded in (nano-dollars keep integer sums exact).
	CostNanoUSD int64 `json:"cost_nano_usd,omitempty"`
	// CostUSD repeats CostNanoUSD in dollars for dashboards reading the KV.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// LastSeq is the highest usage-stream sequence folded in. Metering
	// applies events in stream order, so an event at or below it is
	// already in the sums.
	LastSeq uint64 `json:"last_seq"`
}

// Key is the rollup's KV key: window.start.consumer.model.service.
func (r *Rollup) Key() string {
	return contract.Key(r.Window, fmt.Sprint(r.Start.Unix()), r.Consumer, r.Model, r.Service)
}

// Store binds the two buckets.
type Store struct {
	ledger  jetstream.KeyValue
	rollups jetstream.KeyValue
}

// Open binds the buckets (EnsureTopology must have created them).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	l, err := js.KeyValue(ctx, contract.BucketUsageLedger)
	if err != nil {
		return nil, err
	}
	r, err := js.KeyValue(ctx, contract.BucketUsage)
	if err != nil {
		return nil, err
	}
	return &Store{ledger: l, rollups: r}, nil
}

// Claim records that request id is counted by the event at stream sequence
// seq. It returns false when another event (a duplicate beyond JetStream's
// dedupe window) already claimed the id; a redelivery of the same event
// claims it again successfully.
func (s *Store) Claim(ctx context.Context, requestID string, seq uint64) (bool, error) {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], seq)
	key := contract.Key(requestID)
	_, err := s.ledger.Create(ctx, key, v[:])
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, err
	}
	e, err := s.ledger.Get(ctx, key)
	if err != nil {
		return false, err
	}
	return len(e.Value()) == 8 && binary.BigEndian.Uint64(e.Value()) == seq, nil
}

// Counted reports whether request id has been counted.
func (s *Store) Counted(ctx context.Context, requestID string) (bool, error) {
	_, err := s.ledger.Get(ctx, contract.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Apply folds fn into the rollup at key with compare-and-set, retrying on
// conflicts with other metering replicas. fn gets the current rollup (zero
// if new) and reports whether it changed it.
func (s *Store) Apply(ctx context.Context, key string, fn func(*Rollup) bool) (*Rollup, error) {
	for attempt := 0; ; attempt++ {
		var r Rollup
		var rev uint64
		e, err := s.rollups.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				return nil, fmt.Errorf("decode rollup %s: %w", key, err)
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return nil, err
		}
		if !fn(&r) {
			return nil, nil
		}
		data, _ := json.Marshal(&r)
		if rev == 0 {
			_, err = s.rollups.Create(ctx, key, data)
		} else {
			_, err = s.rollups.Update(ctx, key, data, rev)
		}
		if err == nil {
			return &r, nil
		}
		if attempt >= 20 || ctx.Err() != nil {
			return nil, fmt.Errorf("update rollup %s: %w", key, err)
		}
	}
}

// Rollups lists the rollups whose keys match filter (a KV key filter).
func (s *Store) Rollups(ctx context.Context, filter string) ([]Rollup, error) {
	lister, err := s.rollups.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []Rollup
	for k := range lister.Keys() {
		e, err := s.rollups.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var r Rollup
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
