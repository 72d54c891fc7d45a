package metering

import (
	"os"
	"path/filepath"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestCostNanoUSD(t *testing.T) {
	prices := Prices{
		"gpt-4o-mini":       {Input: 0.15, CachedInput: 0.075, Output: 0.6},
		"azure-east/gpt-4o": {Input: 2.5, Output: 10},
		"gpt-4o":            {Input: 5, Output: 15},
	}
	tests := []struct {
		name string
		ev   *pb.UsageEvent
		want int64
	}{
		{"input and output", &pb.UsageEvent{Model: "gpt-4o-mini", PromptTokens: 1000, CompletionTokens: 100}, 150_000 + 60_000},
		{"cached at the cached price", &pb.UsageEvent{Model: "gpt-4o-mini", PromptTokens: 1000, CachedTokens: 400}, 600*150 + 400*75},
		{"service-specific price wins", &pb.UsageEvent{Service: "azure-east", Model: "gpt-4o", PromptTokens: 10, CompletionTokens: 1}, 10*2500 + 10_000},
		{"model price for another service", &pb.UsageEvent{Service: "openai", Model: "gpt-4o", PromptTokens: 10}, 10 * 5000},
		{"cached without a cached price uses the input price", &pb.UsageEvent{Service: "azure-east", Model: "gpt-4o", PromptTokens: 10, CachedTokens: 10}, 10 * 2500},
		{"unknown model costs nothing", &pb.UsageEvent{Model: "other", PromptTokens: 1000}, 0},
		{"negative counts are ignored", &pb.UsageEvent{Model: "gpt-4o-mini", PromptTokens: -5, CompletionTokens: -1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := prices.CostNanoUSD(tt.ev); got != tt.want {
				t.Fatalf("cost = %d; want %d", got, tt.want)
			}
		})
	}
	if got := Prices(nil).CostNanoUSD(&pb.UsageEvent{Model: "gpt-4o", PromptTokens: 5}); got != 0 {
		t.Fatalf("no table: cost = %d; want 0", got)
	}
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body string
		wantErr    bool
	}{
		{"valid", `{"gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.6}}`, false},
		{"negative", `{"m": {"input_per_1m": -1}}`, true},
		{"not json", `gpt-4o-mini=0.15`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := LoadPrices(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v; wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && p["gpt-4o-mini"].Output != 0.6 {
				t.Fatalf("prices = %+v", p)
			}
		})
	}
}
