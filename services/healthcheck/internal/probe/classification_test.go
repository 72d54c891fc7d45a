package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/provider"
)

// row is one line of the issue 4 classification table, observed through a
// real HTTP fake (or a real network failure) that behaves like the provider.
type row struct {
	name       string
	upstream   http.Handler
	baseSuffix string // appended to the fake's URL, to model operator typos
	target     Target // BaseURL is filled in from the fake
	wantKind   provider.Kind
	wantPrefix string // "{host}" and "{status}" are substituted
	wantStatus int
	wantIn     []string
	wantRetry  time.Duration
}

func openAITarget(model, key string) Target {
	return Target{Protocol: provider.OpenAIV1, Model: model, APIKey: key}
}

var classificationRows = []row{
	{
		name:       "OpenAI 401 wrong key",
		upstream:   openAIFake{key: validKey, models: []string{"gpt-4o-mini"}},
		target:     openAITarget("gpt-4o-mini", wrongKey),
		wantKind:   provider.KindAuthInvalid,
		wantPrefix: "API key is missing or invalid (status 401 from {host})",
		wantStatus: 401,
	},
	{
		name:       "vLLM with --api-key 401 string error",
		upstream:   vllmFake{apiKey: validKey, served: []string{"qwen"}},
		target:     openAITarget("qwen", wrongKey),
		wantKind:   provider.KindAuthInvalid,
		wantPrefix: "API key is missing or invalid (status 401 from {host})",
		wantStatus: 401,
		wantIn:     []string{"Unauthorized"},
	},
	{
		name:       "Gemini 400 API_KEY_INVALID",
		upstream:   geminiFake{key: validKey, methods: map[string][]string{"gemini-2.5-pro": {"generateContent"}}},
		target:     Target{Protocol: provider.GeminiV1Beta, Model: "gemini-2.5-pro", APIKey: wrongKey},
		wantKind:   provider.KindAuthInvalid,
		wantPrefix: "API key is missing or invalid (status 400 from {host})",
		wantStatus: 400,
		wantIn:     []string{"API key not valid"},
	},
	{
		name:       "NIM hosted 403 Authorization failed",
		upstream:   nimHostedFake{key: validKey},
		target:     openAITarget("meta/llama-3.1-8b-instruct", wrongKey),
		wantKind:   provider.KindAuthInvalid,
		wantPrefix: "API key is missing or invalid (status 403 from {host})",
		wantStatus: 403,
	},
	{
		name:       "Azure 401 invalid subscription key",
		upstream:   azureFake{key: validKey, deployments: []string{"gpt-4o"}},
		target:     Target{Protocol: provider.AzureOpenAI, AzureDeployment: "gpt-4o", AzureAPIVersion: "2024-10-21", APIKey: wrongKey},
		wantKind:   provider.KindAuthInvalid,
		wantPrefix: "API key is missing or invalid (status 401 from {host})",
		wantStatus: 401,
	},
	{
		name:       "Anthropic 401",
		upstream:   anthropicFake{key: validKey, models: []string{"claude-sonnet-4-5"}},
		target:     Target{Protocol: provider.AnthropicV1, Model: "claude-sonnet-4-5", APIKey: wrongKey},
		wantKind:   provider.KindAuthOrCredits,
		wantPrefix: "API key is missing/invalid or account credits are exhausted (status 401 from {host})",
		wantStatus: 401,
	},
	{
		name:       "Anthropic 400 credit balance",
		upstream:   anthropicFake{key: validKey, models: []string{"claude-sonnet-4-5"}, creditsLow: true},
		target:     Target{Protocol: provider.AnthropicV1, Model: "claude-sonnet-4-5", APIKey: validKey},
		wantKind:   provider.KindAuthOrCredits,
		wantPrefix: "API key is missing/invalid or account credits are exhausted (status 400 from {host})",
		wantStatus: 400,
		wantIn:     []string{"credit balance is too low"},
	},
	{
		name: "OpenAI 429 insufficient_quota",
		upstream: cannedFake{status: 429, body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.",` +
			`"type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		target:     openAITarget("gpt-4o-mini", validKey),
		wantKind:   provider.KindQuota,
		wantPrefix: "account quota exhausted — check billing and credits (status 429 from {host})",
		wantStatus: 429,
	},
	{
		name:       "Anthropic 403 permission_error",
		upstream:   anthropicFake{key: validKey, models: []string{"claude-opus-4-1"}, permissionDeny: true},
		target:     Target{Protocol: provider.AnthropicV1, Model: "claude-opus-4-1", APIKey: validKey},
		wantKind:   provider.KindPermission,
		wantPrefix: "API key lacks permission for this endpoint (status 403 from {host})",
		wantStatus: 403,
	},
	{
		name:       "OpenAI 404 and model absent from the list",
		upstream:   openAIFake{key: validKey, models: []string{"gpt-4o-mini"}},
		target:     openAITarget("gpt-5-typo", validKey),
		wantKind:   provider.KindNotFound,
		wantPrefix: "endpoint not found — check the base URL and model name (status 404 from {host})",
		wantStatus: 404,
		wantIn:     []string{`"gpt-5-typo" is not in the model list`},
	},
	{
		name:       "vLLM per-model 404 and model absent from the list",
		upstream:   vllmFake{served: []string{"qwen"}},
		target:     openAITarget("llama", validKey),
		wantKind:   provider.KindNotFound,
		wantPrefix: "endpoint not found — check the base URL and model name (status 404 from {host})",
		wantStatus: 404,
	},
	{
		name:       "base URL with /v1 duplicated: list also 404",
		upstream:   vllmFake{served: []string{"qwen"}},
		baseSuffix: "/v1/",
		target:     openAITarget("qwen", validKey),
		wantKind:   provider.KindNotFound,
		wantPrefix: "endpoint not found — check the base URL and model name (status 404 from {host})",
		wantStatus: 404,
	},
	{
		name:       "Gemini 404 NOT_FOUND",
		upstream:   geminiFake{key: validKey, methods: map[string][]string{"gemini-2.5-pro": {"generateContent"}}},
		target:     Target{Protocol: provider.GeminiV1Beta, Model: "gemini-pro", APIKey: validKey},
		wantKind:   provider.KindNotFound,
		wantPrefix: "endpoint not found — check the base URL and model name (status 404 from {host})",
		wantStatus: 404,
	},
	{
		name:       "Azure 404 DeploymentNotFound",
		upstream:   azureFake{key: validKey, deployments: []string{"gpt-4o"}},
		target:     Target{Protocol: provider.AzureOpenAI, AzureDeployment: "gpt-4o-typo", AzureAPIVersion: "2024-10-21", APIKey: validKey},
		wantKind:   provider.KindNotFound,
		wantPrefix: "endpoint not found — check the base URL and model name (status 404 from {host})",
		wantStatus: 404,
		wantIn:     []string{"deployment for this resource does not exist"},
	},
	{
		name:       "429 with Retry-After",
		upstream:   cannedFake{status: 429, header: map[string]string{"Retry-After": "20"}, body: `{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		target:     openAITarget("gpt-4o-mini", validKey),
		wantKind:   provider.KindRateLimited,
		wantPrefix: "rate limited by upstream (status 429 from {host}), retry after 20s",
		wantStatus: 429,
		wantRetry:  20 * time.Second,
	},
	{
		name: "Gemini 429 RESOURCE_EXHAUSTED with retryDelay",
		upstream: cannedFake{status: 429, body: `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED",` +
			`"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"47s"}]}}`},
		target:     openAITarget("m", validKey),
		wantKind:   provider.KindRateLimited,
		wantPrefix: "rate limited by upstream (status 429 from {host}), retry after 47s",
		wantStatus: 429,
		wantRetry:  47 * time.Second,
	},
	{
		name:       "503 overloaded",
		upstream:   cannedFake{status: 503, body: `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`},
		target:     openAITarget("gpt-4o-mini", validKey),
		wantKind:   provider.KindUnavailable,
		wantPrefix: "upstream is temporarily unavailable (status 503 from {host})",
		wantStatus: 503,
	},
	{
		name:       "Anthropic 529 overloaded_error",
		upstream:   cannedFake{status: 529, body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`},
		target:     openAITarget("m", validKey),
		wantKind:   provider.KindUnavailable,
		wantPrefix: "upstream is temporarily unavailable (status 529 from {host})",
		wantStatus: 529,
	},
	{
		name:       "502 bad gateway without a body",
		upstream:   cannedFake{status: 502},
		target:     openAITarget("m", validKey),
		wantKind:   provider.KindUnavailable,
		wantPrefix: "upstream is temporarily unavailable (status 502 from {host})",
		wantStatus: 502,
	},
	{
		name:       "500 server_error",
		upstream:   cannedFake{status: 500, body: `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`},
		target:     openAITarget("m", validKey),
		wantKind:   provider.KindServerError,
		wantPrefix: "upstream server error (status 500 from {host})",
		wantStatus: 500,
	},
	{
		name:       "redirect is not followed",
		upstream:   cannedFake{status: 302, header: map[string]string{"Location": "http://169.254.169.254/latest/meta-data/"}},
		target:     openAITarget("m", validKey),
		wantKind:   provider.KindRedirect,
		wantPrefix: "upstream answered with a redirect, which is not followed — check the base URL (status 302 from {host})",
		wantStatus: 302,
	},
}

func TestClassificationRows(t *testing.T) {
	for _, tc := range classificationRows {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startFake(t, tc.upstream)
			target := tc.target
			target.BaseURL = srv.URL + tc.baseSuffix
			res := Probe(context.Background(), productionLikeClient(), target)
			host := strings.TrimPrefix(srv.URL, "http://")
			assertFailed(t, res, tc, host)
		})
	}
}

func assertFailed(t *testing.T, res Result, tc row, host string) {
	t.Helper()
	t.Logf("message: %s", res.Message)
	prefix := strings.ReplaceAll(tc.wantPrefix, "{host}", host)
	if res.Status != StatusFailed || res.Kind != tc.wantKind {
		t.Fatalf("status %s kind %s, want Failed %s (message %q)", res.Status, res.Kind, tc.wantKind, res.Message)
	}
	if !strings.HasPrefix(res.Message, prefix) {
		t.Errorf("message %q\nwant prefix %q", res.Message, prefix)
	}
	if res.HTTPStatus != tc.wantStatus || res.Host != host || res.RetryAfter != tc.wantRetry {
		t.Errorf("got status %d host %q retry %s, want %d %q %s", res.HTTPStatus, res.Host, res.RetryAfter, tc.wantStatus, host, tc.wantRetry)
	}
	for _, want := range tc.wantIn {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q lacks %q", res.Message, want)
		}
	}
	assertNoKey(t, res)
}

// assertNoKey checks the result carries neither key nor any 8-character
// fragment of one.
func assertNoKey(t *testing.T, res Result) {
	t.Helper()
	for _, key := range []string{validKey, wrongKey} {
		for i := 0; i+8 <= len(key); i++ {
			fragment := key[i : i+8]
			if strings.Contains(res.Message, fragment) || strings.Contains(res.Note, fragment) {
				t.Fatalf("result leaks key fragment %q: %+v", fragment, res)
			}
		}
	}
}

// TestTransportRows covers the rows where no HTTP response arrives.
func TestTransportRows(t *testing.T) {
	tlsServer := httptest.NewTLSServer(openAIFake{key: validKey, models: []string{"m"}})
	t.Cleanup(tlsServer.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)

	cases := []struct {
		name     string
		baseURL  string
		timeout  time.Duration
		wantKind provider.Kind
		wantIn   []string
	}{
		{"TLS untrusted certificate", tlsServer.URL, 0, provider.KindTLS,
			[]string{"endpoint unreachable: ", "x509: ", "re-register it with allow-insecure TLS"}},
		{"DNS failure", "http://no-such-host.invalid", 0, provider.KindUnreachable,
			[]string{"endpoint unreachable: no-such-host.invalid: DNS lookup"}},
		{"connection refused", "http://" + closedAddress(t), 0, provider.KindUnreachable,
			[]string{"endpoint unreachable: ", "connection refused"}},
		{"timeout", slow.URL, 150 * time.Millisecond, provider.KindTimeout,
			[]string{"endpoint unreachable: request to ", "timed out after 150ms"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := openAITarget("m", validKey)
			target.BaseURL, target.Timeout = tc.baseURL, tc.timeout
			res := Probe(context.Background(), productionLikeClient(), target)
			t.Logf("message: %s", res.Message)
			if res.Status != StatusFailed || res.Kind != tc.wantKind || res.HTTPStatus != 0 {
				t.Fatalf("got %+v, want Failed %s without status", res, tc.wantKind)
			}
			if !strings.HasPrefix(res.Message, "endpoint unreachable: ") {
				t.Errorf("message %q does not start with endpoint unreachable", res.Message)
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(res.Message, want) {
					t.Errorf("message %q lacks %q", res.Message, want)
				}
			}
			assertNoKey(t, res)
		})
	}
}

// closedAddress returns a loopback address on which nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	// A socket bound to the port but not listening: connects are refused,
	// and, unlike a listener opened and closed again, the port cannot be
	// taken meanwhile by a server another test package starts (a NATS
	// server once answered this row's probe in CI).
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
