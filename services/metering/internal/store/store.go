// Package store keeps metering's state in JetStream KV: the ledger of
// request ids already counted (sy_usage_ledger, records of many ids per
// event minute, see ledger.go) and the rollups (sy_usage). Each rollup remembers the last usage-stream sequence applied
// to it, which is what makes re-applying a redelivered event a no-op.
package store

import (
	"context"
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
	js      jetstream.JetStream
	ledger  *ledgerIndex
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
	return &Store{js: js, ledger: newLedgerIndex(js, l), rollups: r}, nil
}

// Claim decides, for each claim, whether its event counts: won[i] is
// true when the request id is new (now durably claimed by claims[i].Seq)
// or was claimed before by the same sequence (a redelivery); false when
// another event (a duplicate beyond JetStream's dedupe window) holds it.
// Not safe for concurrent use: metering applies one run at a time.
func (s *Store) Claim(ctx context.Context, claims []Claim) ([]bool, error) {
	return s.ledger.claim(ctx, claims)
}

// Counted reports whether request id has been counted. It reads the whole
// ledger (tests and audits only).
func (s *Store) Counted(ctx context.Context, requestID string) (bool, error) {
	ids, err := LedgerIDs(ctx, s.js)
	_, ok := ids[requestID]
	return ok, err
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
