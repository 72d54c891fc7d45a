package metering

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Price is what one model costs, in US dollars per million tokens.
type Price struct {
	Input       float64 `json:"input_per_1m"`
	CachedInput float64 `json:"cached_input_per_1m"`
	Output      float64 `json:"output_per_1m"`
}

// Prices is the cost table. Keys are "service/model" (one upstream's
// price for a model) or "model" (any service), or "*" as a fallback; the
// most specific key wins. A model without a price costs 0.
type Prices map[string]Price

// LoadPrices reads a JSON cost table from path, e.g.
//
//	{"gpt-4o-mini": {"input_per_1m": 0.15, "cached_input_per_1m": 0.075, "output_per_1m": 0.6},
//	 "azure-east/gpt-4o": {"input_per_1m": 2.5, "output_per_1m": 10}}
func LoadPrices(path string) (Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cost table: %w", err)
	}
	var p Prices
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cost table %s: %w", path, err)
	}
	for k, v := range p {
		if v.Input < 0 || v.CachedInput < 0 || v.Output < 0 || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("cost table %s: entry %q: prices must be non-negative and keys non-empty", path, k)
		}
	}
	return p, nil
}

func (p Prices) lookup(service, model string) (Price, bool) {
	for _, k := range []string{service + "/" + model, model, "*"} {
		if v, ok := p[k]; ok {
			return v, true
		}
	}
	return Price{}, false
}

// CostNanoUSD is what ev cost, in nano-dollars. Prompt tokens include the
// cached ones (the OpenAI convention the edge normalises to); cached
// tokens are charged at the cached price when one is set, else at the
// input price. Reasoning tokens are part of the completion tokens.
func (p Prices) CostNanoUSD(ev *pb.UsageEvent) int64 {
	price, ok := p.lookup(ev.GetService(), ev.GetModel())
	if !ok {
		return 0
	}
	cached := min(max(ev.GetCachedTokens(), 0), max(ev.GetPromptTokens(), 0))
	uncached := max(ev.GetPromptTokens(), 0) - cached
	cachedPrice := price.CachedInput
	if cachedPrice == 0 {
		cachedPrice = price.Input
	}
	// USD per 1M tokens is 1000 nano-USD per token.
	usd := float64(uncached)*price.Input + float64(cached)*cachedPrice + float64(max(ev.GetCompletionTokens(), 0))*price.Output
	return int64(math.Round(usd * 1000))
}
