package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/services/router/routerapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

const (
	healthRound    = time.Second
	healthJitter   = 200 * time.Millisecond
	healthChatPath = "/v1/chat/completions"
)

// startHealthGateway runs the all-in-one gateway with a short probe round
// and the given circuit settings.
func startHealthGateway(t *testing.T, circuits func(*routerapp.Config)) *harness.Gateway {
	return startHealthGatewayIn(t, harness.AllInOne, circuits)
}

func startHealthGatewayIn(t *testing.T, mode harness.Mode, circuits func(*routerapp.Config)) *harness.Gateway {
	return harness.Start(t, mode, harness.Options{Configure: func(c *gatewayapp.Config) {
		c.Healthcheck.Refresh.Interval, c.Healthcheck.Refresh.Jitter = healthRound, healthJitter
		if circuits != nil {
			circuits(&c.Router)
		}
	}})
}

// healthTwoUpstreams registers svc-a and svc-b, two OpenAI fakes serving the same
// model, and waits until the edge routes to both.
func healthTwoUpstreams(t *testing.T, g *harness.Gateway) (a, b *fakes.Fake) {
	a = fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	b = fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	for name, f := range map[string]*fakes.Fake{"svc-a": a, "svc-b": b} {
		if _, err := register(t, g, name, f.URL, providerKey); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	harness.Eventually(t, 5*time.Second, "both routes live", func() bool {
		_ = healthChat(g)
		return a.Count(healthChatPath) > 0 && b.Count(healthChatPath) > 0
	})
	return a, b
}

func healthClient(g *harness.Gateway) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("consumer"), option.WithMaxRetries(0))
}

func healthChat(g *harness.Gateway) error {
	client := healthClient(g)
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	return err
}

func healthChatOK(g *harness.Gateway) bool { return healthChat(g) == nil }

// healthChats sends n requests and returns how many failed.
func healthChats(t *testing.T, g *harness.Gateway, n int) int {
	t.Helper()
	failed := 0
	for range n {
		if healthChat(g) != nil {
			failed++
		}
	}
	return failed
}

func healthStatus(t *testing.T, g *harness.Gateway, name string) *pb.Status {
	t.Helper()
	var rep pb.GetServiceResponse
	if err := natsrpc.Call(context.Background(), g.NC, contract.SubjServicesGet, &pb.GetServiceRequest{Name: name}, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.GetService().GetStatus()
}

func healthWaitStatus(t *testing.T, g *harness.Gateway, name, state string, within time.Duration) time.Duration {
	t.Helper()
	return harness.Eventually(t, within, name+" "+state, func() bool { return healthStatus(t, g, name).GetState() == state })
}

// A service the health check marks Failed gets no traffic while another
// serves the model, and returns to traffic within one probe round after its
// upstream recovers.
func TestHealthFailedServiceLeavesAndRejoinsRotation(t *testing.T) {
	for _, mode := range harness.Modes {
		t.Run(string(mode), func(t *testing.T) { failedServiceLeavesAndRejoins(t, startHealthGatewayIn(t, mode, nil)) })
	}
}

func failedServiceLeavesAndRejoins(t *testing.T, g *harness.Gateway) {
	a, b := healthTwoUpstreams(t, g)

	a.FailFraction(1, fakes.Fault{Status: http.StatusServiceUnavailable, AllPaths: true})
	healthWaitStatus(t, g, "svc-a", "Failed", healthRound+healthJitter+2*time.Second)
	a.ResetRecords()
	if failed := healthChats(t, g, 20); failed != 0 {
		t.Fatalf("%d of 20 requests failed with a healthy svc-b", failed)
	}
	if n := a.Count(healthChatPath); n != 0 {
		t.Fatalf("Failed svc-a got %d requests", n)
	}

	a.ClearFaults()
	took := healthWaitStatus(t, g, "svc-a", "Ready", 3*healthRound)
	if took > healthRound+healthJitter+500*time.Millisecond {
		t.Errorf("recovery seen after %v, more than one round (%v + jitter %v)", took, healthRound, healthJitter)
	}
	t.Logf("svc-a Ready again %v after its upstream recovered", took)
	before := b.Count(healthChatPath)
	if failed := healthChats(t, g, 10); failed != 0 || a.Count(healthChatPath) == 0 {
		t.Fatalf("after recovery: %d failed, svc-a got %d, svc-b %d", failed, a.Count(healthChatPath), b.Count(healthChatPath)-before)
	}
}

// F9: an upstream answering 503 is cut off after FailureThreshold
// consecutive failures, gets no traffic during the cool-down, and takes
// traffic again once one request after the cool-down succeeds.
func TestHealthCircuitOpensOnFailuresAndCloses(t *testing.T) {
	const coolDown = 1500 * time.Millisecond
	// Fallback off (one attempt): this test watches the failures reach
	// the client; routing_fallback_test.go covers fallback hiding them.
	g := startHealthGateway(t, func(c *routerapp.Config) {
		c.Circuits.FailureThreshold, c.Circuits.CoolDown = 5, coolDown
		c.Edge.Retry.MaxAttempts = 1
	})
	a, b := healthTwoUpstreams(t, g)
	a.ResetRecords()
	a.FailFraction(1, fakes.Fault{Status: http.StatusServiceUnavailable}) // inference only: probes stay Ready

	opened := time.Now()
	failed := healthChats(t, g, 40)
	if n := a.Count(healthChatPath); n != 5 || failed != 5 {
		t.Fatalf("svc-a got %d requests and clients saw %d failures; want 5 and 5 (threshold)", n, failed)
	}
	if time.Since(opened) > coolDown {
		t.Skip("40 requests took longer than the cool-down on this machine; the open window was not observed")
	}
	a.ClearFaults()
	harness.Eventually(t, coolDown+2*time.Second, "half-open probe reaches svc-a", func() bool {
		return healthChatOK(g) && a.Count(healthChatPath) > 5
	})
	if since := time.Since(opened); since < coolDown {
		t.Fatalf("svc-a got traffic %v after its circuit opened, before the %v cool-down", since, coolDown)
	}
	// Closed again, svc-a shares traffic by its success score: after five
	// failures and a success it is ~0.78 against svc-b's 1, a ~44 % share.
	// 100 requests and a floor of 25 make a healthy run fail with
	// probability ~1e-4 (10 requests and a floor of 3 failed ~12 % of runs).
	before := a.Count(healthChatPath)
	if failed := healthChats(t, g, 100); failed != 0 || a.Count(healthChatPath)-before < 25 {
		t.Fatalf("closed circuit: %d failed, svc-a got %d of 100", failed, a.Count(healthChatPath)-before)
	}
	_ = b
}

// F12: a 429 with Retry-After stops traffic to that service until then
// (the half-open probe excepted); the other service takes the load.
func TestHealthRetryAfterIsHonoured(t *testing.T) {
	g := startHealthGateway(t, func(c *routerapp.Config) { c.Edge.Retry.MaxAttempts = 1 }) // the 429 must reach the client
	a, _ := healthTwoUpstreams(t, g)
	a.ResetRecords()
	a.FailNext(1, fakes.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})

	start := time.Now()
	for healthChat(g) == nil {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the 429 never reached the client")
		}
	}
	for time.Since(start) < 1500*time.Millisecond {
		if err := healthChat(g); err != nil {
			t.Fatalf("request during Retry-After failed: %v", err)
		}
	}
	if n := a.Count(healthChatPath); n != 1 {
		t.Fatalf("svc-a got %d requests within its Retry-After, want only the 429", n)
	}
	harness.Eventually(t, 3*time.Second, "svc-a back after Retry-After", func() bool {
		return healthChatOK(g) && a.Count(healthChatPath) > 1
	})
	if since := time.Since(start); since < 2*time.Second {
		t.Fatalf("svc-a got traffic %v after a Retry-After of 2s", since)
	}
}
