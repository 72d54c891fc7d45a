package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

const chatPath = "/v1/chat/completions"

// routingTwoTargets registers a flaky and a healthy OpenAI fake serving
// the same model and an alias "chat" over both (weights 1:1), and waits
// until the alias answers.
func routingTwoTargets(t *testing.T, g *harness.Gateway) (flaky, healthy *fakes.Fake) {
	t.Helper()
	flaky = fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	healthy = fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	for name, f := range map[string]*fakes.Fake{"flaky": flaky, "healthy": healthy} {
		if _, err := register(t, g, name, f.URL, providerKey); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	syctl(t, g, "", "aliases", "put", "chat", "--target", "flaky", "--target", "healthy")
	client := openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	harness.Eventually(t, 5*time.Second, "alias chat routes", func() bool {
		_, err := client.Chat.Completions.New(context.Background(), userChat("chat", "hi"))
		return err == nil
	})
	return flaky, healthy
}

// TestRoutingFallbackUnderFailingUpstream: one of two targets fails half
// its calls (503, evenly spread, so its circuit never opens). Fallback
// hides the failures from clients, the success-weighted balance sends the
// flaky target less traffic, and the extra upstream attempts stay within
// the 20% retry budget. Each client request is metered once.
func TestRoutingFallbackUnderFailingUpstream(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	flaky, healthy := routingTwoTargets(t, g)
	flaky.FailFraction(0.5, fakes.Fault{Status: http.StatusServiceUnavailable})
	flaky.ResetRecords()
	healthy.ResetRecords()
	eventsBefore := g.UsageEventsPublished(t)

	const requests, workers = 600, 6
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			client := openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
			for range requests / workers {
				if _, err := client.Chat.Completions.New(context.Background(), userChat("chat", "hi")); err != nil {
					if failed.Add(1) == 1 {
						t.Logf("worker %d: first client error: %v", w, err)
					}
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	calls := flaky.Count(chatPath) + healthy.Count(chatPath)
	extra := calls - requests
	// The budget: 20% of the client requests plus 3 per 10 s window.
	windows := int(took/(10*time.Second)) + 2
	budget := requests/5 + 3*windows
	t.Logf("%d requests in %v: %d client errors; upstream calls %d (flaky %d, healthy %d), extra attempts %d = %.1f%% (budget %d)",
		requests, took.Round(time.Millisecond), failed.Load(), calls, flaky.Count(chatPath), healthy.Count(chatPath),
		extra, 100*float64(extra)/requests, budget)
	if failed.Load() > requests/100 {
		t.Errorf("%d client errors with a healthy second target; want about 0", failed.Load())
	}
	if extra > budget {
		t.Errorf("%d extra upstream attempts exceed the retry budget of %d", extra, budget)
	}
	if flaky.Count(chatPath) >= healthy.Count(chatPath) {
		t.Errorf("the flaky target got %d calls, the healthy one %d: balancing ignored the failures",
			flaky.Count(chatPath), healthy.Count(chatPath))
	}
	harness.Eventually(t, 10*time.Second, "one usage event per client request", func() bool {
		return g.UsageEventsPublished(t)-eventsBefore >= requests
	})
	if n := g.UsageEventsPublished(t) - eventsBefore; n != requests {
		t.Errorf("%d usage events for %d client requests", n, requests)
	}
	assertMetricsShow(t, `attempt="fallback"`, "gen_ai_client_operation_duration_seconds", "switchyard_router_requests_total",
		`gen_ai_operation_name="chat"`)
}

// assertMetricsShow reads /metrics as the ops listener serves it (the
// default registry; the all-in-one router runs in this process).
func assertMetricsShow(t *testing.T, want ...string) {
	t.Helper()
	srv := httptest.NewServer(promhttp.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("/metrics does not show %s", w)
		}
	}
}
