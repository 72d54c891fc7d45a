package metering

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/services/metering/internal/store"
)

func TestToRowCarriesSpendLimitsAndLatency(t *testing.T) {
	r := &store.Rollup{Window: "minute", Start: time.Unix(60, 0), Requests: 3, RateLimited: 2,
		LatencyMs: 900, TTFTMs: 120, CostNanoUSD: 1_500_000_000}
	row := ToRow(r)
	if row.GetCostUsd() != 1.5 || row.GetRateLimited() != 2 || row.GetLatencyMsSum() != 900 ||
		row.GetTtftMsSum() != 120 || row.GetRequests() != 3 {
		t.Fatalf("row = %v", row)
	}
}
