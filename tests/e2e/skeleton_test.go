// Package e2e runs Switchyard end to end: real NATS, the real services, a
// real HTTP fake upstream and the official openai-go SDK as the client.
// Each test body runs against the all-in-one gateway and against the
// services started separately.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/gateway/syctlapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

const (
	model       = "gpt-4o-mini"
	providerKey = "sk-upstream-CANARY-7f3a9c"
)

func forEachMode(t *testing.T, body func(t *testing.T, g *harness.Gateway)) {
	for _, mode := range harness.Modes {
		t.Run(string(mode), func(t *testing.T) {
			body(t, harness.Start(t, mode, harness.Options{}))
		})
	}
}

func register(t *testing.T, g *harness.Gateway, name, baseURL, key string) (*pb.RegisterServiceResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rep pb.RegisterServiceResponse
	err := natsrpc.Call(ctx, g.NC, contract.SubjServicesRegister, &pb.RegisterServiceRequest{
		Service:    &pb.Service{Name: name, Model: model, BaseUrl: baseURL, Protocol: "OPENAI_V1", Functions: []string{"chat"}},
		Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: key}},
	}, &rep)
	return &rep, err
}

// syctl runs the real CLI against g and returns its stdout; a non-zero exit
// fails the test.
func syctl(t *testing.T, g *harness.Gateway, stdin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--nats-url", g.NATSURL}, args...)
	if code := syctlapp.Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut); code != 0 {
		t.Fatalf("syctl %v: exit %d\n%s%s", args, code, out.String(), errOut.String())
	}
	return out.String()
}

func edgeHasModel(g *harness.Gateway, id string) bool {
	resp, err := harness.HTTPClient.Get(g.EdgeURL + "/v1/models/" + id)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func usageFor(t *testing.T, g *harness.Gateway, m string) *pb.UsageRow {
	t.Helper()
	var rep pb.UsageQueryResponse
	if err := natsrpc.Call(context.Background(), g.NC, contract.SubjUsageQuery, &pb.UsageQueryRequest{Model: m}, &rep); err != nil {
		t.Fatal(err)
	}
	total := &pb.UsageRow{Model: m}
	for _, r := range rep.GetRows() {
		total.Requests += r.GetRequests()
		total.PromptTokens += r.GetPromptTokens()
		total.CompletionTokens += r.GetCompletionTokens()
	}
	return total
}

func TestWalkingSkeleton(t *testing.T) {
	forEachMode(t, func(t *testing.T, g *harness.Gateway) {
		up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model},
			Text: "Hello from upstream", Usage: fakes.Usage{Prompt: 11, Completion: 7}})

		registeredAt := time.Now()
		out := syctl(t, g, providerKey+"\n", "services", "register", "openai-main", "--model", model,
			"--base-url", up.URL, "--protocol", "OPENAI_V1", "--api-key", "-", "--function", "chat")
		if !strings.Contains(out, "Ready") {
			t.Fatalf("syctl register did not report Ready:\n%s", out)
		}
		harness.Eventually(t, time.Second, "route live at the edge", func() bool { return edgeHasModel(g, model) })
		t.Logf("route live %v after registration returned", time.Since(registeredAt))

		client := openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("consumer-key-unused"))
		res, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		if got := res.Choices[0].Message.Content; got != "Hello from upstream" {
			t.Fatalf("content = %q", got)
		}
		// Health probes reach the same fake; look at the chat call itself.
		chats := up.RequestsTo("/v1/chat/completions")
		if len(chats) != 1 || chats[0].Header.Get("Authorization") != "Bearer "+providerKey {
			t.Fatalf("upstream did not get the provider key on the chat call: %d calls", len(chats))
		}
		last := chats[0]
		if strings.Contains(strings.Join(last.Header.Values("Authorization"), " "), "consumer-key-unused") {
			t.Fatal("consumer key forwarded upstream")
		}

		harness.Eventually(t, 10*time.Second, "usage counted", func() bool {
			u := usageFor(t, g, model)
			return u.GetRequests() == 1 && u.GetPromptTokens() == 11 && u.GetCompletionTokens() == 7
		})
		var usage pb.UsageQueryResponse
		if err := protojson.Unmarshal([]byte(syctl(t, g, "", "usage", "--model", model, "-o", "json")), &usage); err != nil ||
			len(usage.GetRows()) == 0 || usage.GetRows()[0].GetPromptTokens() != 11 || usage.GetRows()[0].GetCompletionTokens() != 7 {
			t.Fatalf("syctl usage: %v %v", err, &usage)
		}
		if strings.Contains(syctl(t, g, "", "services", "list", "-o", "json"), providerKey) {
			t.Fatal("provider key in syctl output")
		}

		deregisteredAt := time.Now()
		var drep pb.DeregisterServiceResponse
		if err := natsrpc.Call(context.Background(), g.NC, contract.SubjServicesDeregister,
			&pb.DeregisterServiceRequest{Name: "openai-main"}, &drep); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, time.Second, "route gone from the edge", func() bool { return !edgeHasModel(g, model) })
		t.Logf("route gone %v after deregistration returned", time.Since(deregisteredAt))
		for _, b := range []string{contract.BucketServices, contract.BucketCredentials} {
			if n := g.KeyCount(t, b); n != 0 {
				t.Fatalf("%s still holds %d keys after deregistration", b, n)
			}
		}
	})
}

func TestBadRequestsAreOpenAIErrorsAndNotMetered(t *testing.T) {
	forEachMode(t, func(t *testing.T, g *harness.Gateway) {
		up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
		if _, err := register(t, g, "openai-main", up.URL, providerKey); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, time.Second, "route live", func() bool { return edgeHasModel(g, model) })
		before := g.UsageEventsPublished(t)

		client := openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("x"), option.WithMaxRetries(0))
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "no-such-model", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
			t.Fatalf("unknown model: %v", err)
		}
		resp, err := harness.HTTPClient.Post(g.EdgeURL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model": "gpt-4o-mini", "messages": [`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("malformed body: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		// A good request afterwards is metered; the bad ones before it are not.
		if _, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		}); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, 10*time.Second, "good request counted", func() bool { return usageFor(t, g, model).GetRequests() == 1 })
		if got := g.UsageEventsPublished(t); got != before+1 {
			t.Fatalf("usage events published: %d, want %d (bad requests must not be metered)", got-before, 1)
		}
		if n := up.Count("/v1/chat/completions"); n != 1 {
			t.Fatalf("upstream saw %d chat calls, want 1", n)
		}
	})
}

func TestRefusedRegistrationLeavesNothing(t *testing.T) {
	forEachMode(t, func(t *testing.T, g *harness.Gateway) {
		up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
		_, err := register(t, g, "openai-bad", up.URL, "sk-wrong-key")
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Code != apierr.FailedPrecondition ||
			!strings.Contains(ae.Message, "API key is missing or invalid (status 401") {
			t.Fatalf("register with a bad key: %v", err)
		}
		if strings.Contains(ae.Message, "sk-wrong-key") {
			t.Fatal("the refused key appears in the error")
		}
		for _, b := range []string{contract.BucketServices, contract.BucketCredentials, contract.BucketStatus} {
			if n := g.KeyCount(t, b); n != 0 {
				t.Fatalf("%s holds %d keys after a refused registration", b, n)
			}
		}
		if edgeHasModel(g, model) {
			t.Fatal("refused service is routable")
		}
	})
}
