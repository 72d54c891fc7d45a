package metering

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// Query answers usage queries from the rollups.
type Query struct{ store *store.Store }

// NewQuery returns the query side over the store.
func NewQuery(s *store.Store) *Query { return &Query{store: s} }

// Usage returns the rollups that match req, oldest first.
func (q *Query) Usage(ctx context.Context, req *pb.UsageQueryRequest) ([]*pb.UsageRow, error) {
	window := req.GetWindow()
	if window == "" {
		window = "minute"
	}
	if _, ok := Windows[window]; !ok {
		return nil, apierr.Field("window", "window must be minute or day")
	}
	tok := func(v string) string {
		if v == "" {
			return "*"
		}
		return contract.Token(v)
	}
	filter := strings.Join([]string{contract.Token(window), "*", tok(req.GetConsumer()), tok(req.GetModel()), tok(req.GetService())}, ".")
	rollups, err := q.store.Rollups(ctx, filter)
	if err != nil {
		return nil, apierr.Newf(apierr.Unavailable, "read rollups: %v", err)
	}
	var rows []*pb.UsageRow
	for i := range rollups {
		r := &rollups[i]
		if req.GetSince() != nil && r.Start.Before(req.GetSince().AsTime().Truncate(Windows[window])) {
			continue
		}
		if req.GetUntil() != nil && !r.Start.Before(req.GetUntil().AsTime()) {
			continue
		}
		rows = append(rows, ToRow(r))
	}
	slices.SortFunc(rows, func(a, b *pb.UsageRow) int { return a.GetStart().AsTime().Compare(b.GetStart().AsTime()) })
	return rows, nil
}

// ToRow converts a stored rollup to its wire form.
func ToRow(r *store.Rollup) *pb.UsageRow {
	return &pb.UsageRow{
		Window: r.Window, Start: timestamppb.New(r.Start), Consumer: r.Consumer, Model: r.Model,
		Service: r.Service, Requests: r.Requests, Errors: r.Errors, PromptTokens: r.PromptTokens,
		CompletionTokens: r.CompletionTokens, CachedTokens: r.CachedTokens, ReasoningTokens: r.ReasoningTokens,
		CostUsd: float64(r.CostNanoUSD) / 1e9, RateLimited: r.RateLimited,
		LatencyMsSum: r.LatencyMs, TtftMsSum: r.TTFTMs,
	}
}
