package e2e

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// createKey makes a consumer key with the real syctl and returns it.
func createKey(t *testing.T, g *harness.Gateway, args ...string) string {
	t.Helper()
	out, stderr, code := runSyctl(g, append([]string{"keys", "create", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("keys create %v exited %d: %s", args, code, stderr)
	}
	var created pb.CreateKeyResponse
	if err := protojson.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	return created.GetKey()
}

func keyClient(g *harness.Gateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

// chatAs sends one chat completion with key and returns the answer's
// headers (success or error) and the error.
func chatAs(g *harness.Gateway, key, model string) (http.Header, error) {
	var resp *http.Response
	client := keyClient(g, key)
	_, err := client.Chat.Completions.New(context.Background(), userChat(model, "hi"), option.WithResponseInto(&resp))
	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Response.Header, err
	case resp != nil:
		return resp.Header, err
	}
	return nil, err
}

// apiStatus is the HTTP status and error code of an openai-go error (0
// and "" for nil).
func apiStatus(err error) (int, string) {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return 0, ""
	}
	return apiErr.StatusCode, apiErr.Code
}

// TestLimitsKeysAccessThroughSDK: with authentication on, openai-go sees
// 401 for a missing or unknown key, 403 for a model or service the key may
// not use (no upstream call), /v1/models filtered per key, and 429 with
// Retry-After and x-ratelimit-* headers from the key, key+model and
// service limits.
func TestLimitsKeysAccessThroughSDK(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{Auth: true})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model, "gpt-4o"}})
	syctl(t, g, providerKey+"\n", "services", "register", "open", "--model", model, "--base-url", up.URL,
		"--protocol", "OPENAI_V1", "--api-key", "-")
	syctl(t, g, providerKey+"\n", "services", "register", "gated", "--model", "gpt-4o", "--base-url", up.URL,
		"--protocol", "OPENAI_V1", "--allow-group", "research", "--allow-domain", "lab.example", "--rpm", "2", "--api-key", "-")

	research := createKey(t, g, "--owner", "ana@lab.example", "--group", "Research")
	outsider := createKey(t, g, "--owner", "eve@elsewhere.example", "--group", "research")
	miniOnly := createKey(t, g, "--owner", "bo@lab.example", "--model", model, "--rpm", "3")
	perModel := createKey(t, g, "--owner", "cy@lab.example", "--model-limit", model+"=2/0")

	waitKeyOnReplicas(t, []string{g.EdgeURL}, perModel) // the last key created: the watch delivers in order
	harness.Eventually(t, 5*time.Second, "the edge routes with a key", func() bool {
		_, err := chatAs(g, research, model)
		return err == nil
	})
	upCalls := func() int { return up.Count(chatPath) }
	refusals := []struct {
		name, key, model string
		status           int
		code             string
	}{
		{"no key", "", model, 401, ""},
		{"unknown key", "sy-" + strings.Repeat("Z", 43), model, 401, "invalid_api_key"},
		{"model not on the key", miniOnly, "gpt-4o", 403, "model_not_allowed"},
		{"owner domain refused by the service", outsider, "gpt-4o", 403, "domain_not_allowed"},
	}
	for _, tc := range refusals {
		before := upCalls()
		_, err := chatAs(g, tc.key, tc.model)
		if status, code := apiStatus(err); status != tc.status || code != tc.code {
			t.Errorf("%s: got %d %q (%v), want %d %q", tc.name, status, code, err, tc.status, tc.code)
		}
		if upCalls() != before {
			t.Errorf("%s: the refused request reached the upstream", tc.name)
		}
	}

	// /v1/models lists only what the key may use.
	client := keyClient(g, miniOnly)
	page, err := client.Models.List(context.Background())
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != model {
		t.Errorf("models for a key allowed only %s: %+v (%v)", model, page, err)
	}

	// Key limit 3 rpm: three answers count the quota down, the fourth is 429.
	for i := 2; i >= 0; i-- {
		h, err := chatAs(g, miniOnly, model)
		if err != nil || h.Get("X-Ratelimit-Limit-Requests") != "3" || h.Get("X-Ratelimit-Remaining-Requests") != strconv.Itoa(i) {
			t.Fatalf("request with %d left: %v, headers %v", i, err, h)
		}
	}
	assertRateLimited(t, g, miniOnly, model, "key")
	// Key+model limit 2 rpm.
	for range 2 {
		if _, err := chatAs(g, perModel, model); err != nil {
			t.Fatal(err)
		}
	}
	assertRateLimited(t, g, perModel, model, "key+model")
	// Service limit 2 rpm across every key.
	for range 2 {
		if _, err := chatAs(g, research, "gpt-4o"); err != nil {
			t.Fatal(err)
		}
	}
	assertRateLimited(t, g, research, "gpt-4o", "service")
}

func assertRateLimited(t *testing.T, g *harness.Gateway, key, model, scope string) {
	t.Helper()
	h, err := chatAs(g, key, model)
	status, code := apiStatus(err)
	if status != http.StatusTooManyRequests || code != "rate_limit_exceeded" || h.Get("Retry-After") == "" {
		t.Fatalf("%s limit: got %d %q, Retry-After %q (%v)", scope, status, code, h.Get("Retry-After"), err)
	}
	t.Logf("%s limit: 429 %q, Retry-After %s, remaining %s", scope, err, h.Get("Retry-After"), h.Get("X-Ratelimit-Remaining-Requests"))
}
