package probe

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/provider"
)

func TestProbeReady(t *testing.T) {
	cases := []struct {
		name         string
		upstream     http.Handler
		target       Target
		wantVerified bool
		wantNote     []string // substrings; none means Note must be empty
		wantRequests []string // "METHOD escaped-path?query", in order
	}{
		{
			name:         "OpenAI verifies the key",
			upstream:     openAIFake{key: validKey, models: []string{"gpt-4o-mini"}},
			target:       openAITarget("gpt-4o-mini", validKey),
			wantVerified: true,
			wantRequests: []string{"GET /v1/models/gpt-4o-mini?", "GET /v1/models/gpt-4o-mini?"},
		},
		{
			name:         "vLLM without auth: list fallback, key unproven",
			upstream:     vllmFake{served: []string{"Qwen/Qwen2.5-7B-Instruct"}},
			target:       openAITarget("Qwen/Qwen2.5-7B-Instruct", validKey),
			wantNote:     []string{"found in GET /v1/models", NoteKeyNotVerified},
			wantRequests: []string{"GET /v1/models/Qwen/Qwen2.5-7B-Instruct?", "GET /v1/models?", "GET /v1/models?"},
		},
		{
			name:         "vLLM with --api-key: list fallback, key verified",
			upstream:     vllmFake{apiKey: validKey, served: []string{"qwen"}},
			target:       openAITarget("qwen", validKey),
			wantVerified: true,
			wantNote:     []string{"found in GET /v1/models"},
			wantRequests: []string{"GET /v1/models/qwen?", "GET /v1/models?", "GET /v1/models?"},
		},
		{
			name:         "vLLM without auth and no key configured",
			upstream:     vllmFake{served: []string{"qwen"}},
			target:       openAITarget("qwen", ""),
			wantNote:     []string{"no API key is configured"},
			wantRequests: []string{"GET /v1/models/qwen?", "GET /v1/models?"},
		},
		{
			name:         "NIM hosted: slash in the model id",
			upstream:     nimHostedFake{key: validKey},
			target:       openAITarget("meta/llama-3.1-8b-instruct", validKey),
			wantVerified: true,
			wantRequests: []string{"GET /v1/models/meta/llama-3.1-8b-instruct?", "GET /v1/models/meta/llama-3.1-8b-instruct?"},
		},
		{
			name:         "Anthropic",
			upstream:     anthropicFake{key: validKey, models: []string{"claude-sonnet-4-5"}},
			target:       Target{Protocol: provider.AnthropicV1, Model: "claude-sonnet-4-5", APIKey: validKey},
			wantVerified: true,
			wantRequests: []string{"GET /v1/models/claude-sonnet-4-5?", "GET /v1/models/claude-sonnet-4-5?"},
		},
		{
			name:         "Gemini, resource-style model name",
			upstream:     geminiFake{key: validKey, methods: map[string][]string{"gemini-2.5-pro": {"generateContent", "countTokens"}}},
			target:       Target{Protocol: provider.GeminiV1Beta, Model: "models/gemini-2.5-pro", APIKey: validKey},
			wantVerified: true,
			wantRequests: []string{"GET /v1beta/models/gemini-2.5-pro?", "GET /v1beta/models/gemini-2.5-pro?"},
		},
		{
			name:         "Gemini embedding model",
			upstream:     geminiFake{key: validKey, methods: map[string][]string{"gemini-embedding-001": {"embedContent"}}},
			target:       Target{Protocol: provider.GeminiV1Beta, Model: "gemini-embedding-001", APIKey: validKey},
			wantVerified: true,
			wantNote:     []string{"embeddings only"},
			wantRequests: []string{"GET /v1beta/models/gemini-embedding-001?", "GET /v1beta/models/gemini-embedding-001?"},
		},
		{
			name:         "Azure classic deployment",
			upstream:     azureFake{key: validKey, deployments: []string{"gpt-4o"}},
			target:       Target{Protocol: provider.AzureOpenAI, AzureDeployment: "gpt-4o", AzureAPIVersion: "2024-10-21", APIKey: validKey},
			wantVerified: true,
			wantNote:     []string{"rejects before generating tokens"},
			wantRequests: []string{"POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
				"POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"},
		},
		{
			name:         "Azure v1 surface, deployment from the model name",
			upstream:     azureFake{key: validKey, deployments: []string{"gpt-4o"}},
			target:       Target{Protocol: provider.AzureOpenAI, Model: "gpt-4o", APIKey: validKey},
			wantVerified: true,
			wantNote:     []string{"rejects before generating tokens"},
			wantRequests: []string{"POST /openai/v1/chat/completions?", "POST /openai/v1/chat/completions?"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := startFake(t, tc.upstream)
			target := tc.target
			target.BaseURL = srv.URL + "/"
			res := Probe(context.Background(), productionLikeClient(), target)
			if res.Status != StatusReady || res.Message != "" || res.Kind != provider.KindOK || res.KeyVerified != tc.wantVerified {
				t.Fatalf("got %+v, want Ready, empty message, KeyVerified=%v", res, tc.wantVerified)
			}
			assertNote(t, res.Note, tc.wantNote)
			assertRequests(t, rec.requests(), tc.wantRequests)
		})
	}
}

func assertNote(t *testing.T, note string, want []string) {
	t.Helper()
	if len(want) == 0 && note != "" {
		t.Errorf("note %q, want none", note)
	}
	for _, w := range want {
		if !strings.Contains(note, w) {
			t.Errorf("note %q lacks %q", note, w)
		}
	}
}

// assertRequests checks the exact endpoints hit, and that nothing could have
// generated a billable token: only GETs, or Azure's empty conversation.
func assertRequests(t *testing.T, seen []seenRequest, want []string) {
	t.Helper()
	got := make([]string, len(seen))
	for i, r := range seen {
		got[i] = r.Method + " " + r.EscapedPath + "?" + r.Query
		if r.Method != http.MethodGet && !strings.Contains(r.Body, `"messages":[]`) {
			t.Errorf("request %s carries a conversation: %s", got[i], r.Body)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProbePathBuilding(t *testing.T) {
	cases := []struct{ base, model, want string }{
		{"", "meta/llama-3.1-8b-instruct", "/v1/models/meta/llama-3.1-8b-instruct"},
		{"/api", "openai/gpt-4o-mini", "/api/v1/models/openai/gpt-4o-mini"},
		{"/api/", "my model?x#y", "/api/v1/models/my%20model%3Fx%23y"},
		{"", "pct%2Fencoded", "/v1/models/pct%252Fencoded"},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			srv, rec := startFake(t, openAIFake{key: validKey, models: []string{tc.model}})
			res := Probe(context.Background(), productionLikeClient(), openAITargetAt(srv.URL+tc.base, tc.model))
			seen := rec.requests()
			if len(seen) == 0 || seen[0].EscapedPath != tc.want {
				t.Fatalf("first request %+v, want path %s", seen, tc.want)
			}
			if tc.base == "" && res.Status != StatusReady {
				t.Errorf("got %+v, want Ready", res)
			}
		})
	}
}

func openAITargetAt(base, model string) Target {
	t := openAITarget(model, validKey)
	t.BaseURL = base
	return t
}

func TestProbeRejectsInvalidTargets(t *testing.T) {
	cases := []struct {
		name   string
		target Target
		want   string
	}{
		{"unknown protocol", Target{Protocol: "OPENAI_V2", BaseURL: "http://h", Model: "m"}, "unknown API protocol"},
		{"ftp scheme", Target{Protocol: provider.OpenAIV1, BaseURL: "ftp://h", Model: "m"}, "scheme must be http or https"},
		{"no host", Target{Protocol: provider.OpenAIV1, BaseURL: "http://", Model: "m"}, "no host"},
		{"credentials in URL", Target{Protocol: provider.OpenAIV1, BaseURL: "https://user:pass@h", Model: "m"}, "must not contain credentials"},
		{"empty model", Target{Protocol: provider.OpenAIV1, BaseURL: "http://h"}, "model name is empty"},
		{"dot-dot model", Target{Protocol: provider.OpenAIV1, BaseURL: "http://h", Model: "../../admin"}, "'..' segment"},
		{"empty segment", Target{Protocol: provider.OpenAIV1, BaseURL: "http://h", Model: "a//b"}, "empty"},
		{"azure deployment with slash", Target{Protocol: provider.AzureOpenAI, BaseURL: "http://h", AzureDeployment: "a/b"}, "single path segment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Probe(context.Background(), productionLikeClient(), tc.target)
			if res.Status != StatusFailed || !strings.HasPrefix(res.Message, "invalid service configuration: ") ||
				!strings.Contains(res.Message, tc.want) {
				t.Fatalf("got %+v, want Failed mentioning %q", res, tc.want)
			}
		})
	}
}

// TestProbeNeverEchoesKey uses upstreams that put the presented key in their
// error bodies, raw and encoded.
func TestProbeNeverEchoesKey(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(wrongKey))
	bodies := map[string]http.Handler{
		"OpenAI echoes the whole key": openAIFake{key: validKey, models: []string{"m"}, echoKey: true},
		"body echoes base64 key": cannedFake{status: 403, body: fmt.Sprintf(
			`{"error":{"message":"key %s (b64 %s) forbidden","type":"x","code":null}}`, validKey, encoded)},
		"body echoes key suffix": cannedFake{status: 500, body: fmt.Sprintf(
			`{"error":{"message":"bad key ...%s","type":"x","code":null}}`, validKey[len(validKey)-10:])},
	}
	for name, upstream := range bodies {
		t.Run(name, func(t *testing.T) {
			srv, _ := startFake(t, upstream)
			target := openAITargetAt(srv.URL, "m")
			if strings.HasPrefix(name, "OpenAI") {
				target.APIKey = wrongKey
			}
			res := Probe(context.Background(), productionLikeClient(), target)
			if res.Status != StatusFailed || !strings.Contains(res.Message, "[REDACTED]") {
				t.Fatalf("got %+v, want Failed with a redaction", res)
			}
			assertNoKey(t, res)
		})
	}
}

func TestProbeTrustedTLS(t *testing.T) {
	srv := httptest.NewTLSServer(openAIFake{key: validKey, models: []string{"m"}})
	t.Cleanup(srv.Close)
	res := Probe(context.Background(), srv.Client(), openAITargetAt(srv.URL, "m"))
	if res.Status != StatusReady || !res.KeyVerified {
		t.Fatalf("got %+v, want Ready with a verified key over trusted TLS", res)
	}
}

func TestProbeCanceledByCaller(t *testing.T) {
	srv, _ := startFake(t, openAIFake{key: validKey, models: []string{"m"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Probe(ctx, productionLikeClient(), openAITargetAt(srv.URL, "m"))
	if res.Kind != provider.KindCanceled || res.Status != StatusFailed {
		t.Fatalf("got %+v, want Failed/canceled so the caller can skip recording it", res)
	}
}

func TestGeminiModelWithoutGenerateContent(t *testing.T) {
	srv, _ := startFake(t, geminiFake{key: validKey, methods: map[string][]string{"aqa": {"generateAnswer"}}})
	res := Probe(context.Background(), productionLikeClient(),
		Target{Protocol: provider.GeminiV1Beta, BaseURL: srv.URL, Model: "aqa", APIKey: validKey})
	if res.Status != StatusFailed || !strings.HasPrefix(res.Message, "model does not support generateContent") ||
		!strings.Contains(res.Message, "generateAnswer") {
		t.Fatalf("got %+v, want Failed naming the supported methods", res)
	}
}

func TestProbeWrongServerAnswering200(t *testing.T) {
	srv, _ := startFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>welcome</html>"))
	}))
	res := Probe(context.Background(), productionLikeClient(), openAITargetAt(srv.URL, "m"))
	if res.Status != StatusFailed || !strings.HasPrefix(res.Message, "unexpected response from upstream (status 200") ||
		strings.Contains(res.Message, "welcome") {
		t.Fatalf("got %+v, want Failed without quoting the body", res)
	}
}

func TestCredentialUnresolvable(t *testing.T) {
	cases := []struct {
		problem CredentialProblem
		ref     string
		want    string
	}{
		{CredentialEnvUnset, "OPENAI_API_KEY", `credential unresolvable: environment variable "OPENAI_API_KEY" is not set`},
		{CredentialFileUnreadable, "/var/run/secrets/openai/key", `credential unresolvable: file "/var/run/secrets/openai/key" is missing or unreadable`},
		{CredentialDecryptFailed, "mk-2025-01", `credential unresolvable: the stored secret cannot be decrypted with master key "mk-2025-01"`},
		{CredentialMissing, "openai-prod", `credential unresolvable: credential "openai-prod" does not exist`},
		{CredentialProblem(99), "x", `credential unresolvable: the API key could not be obtained (x)`},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			res := CredentialUnresolvable(tc.problem, tc.ref)
			if res.Status != StatusFailed || res.Kind != provider.KindCredentialUnresolvable || !strings.HasPrefix(res.Message, tc.want) {
				t.Fatalf("got %+v, want Failed starting %q", res, tc.want)
			}
		})
	}
}

func TestTargetHidesKey(t *testing.T) {
	target := Target{Protocol: provider.OpenAIV1, BaseURL: "https://api.openai.com", Model: "m", APIKey: validKey}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("probing", "target", target)
	outputs := []string{target.String(), fmt.Sprintf("%v %+v %#v %s", target, target, target, target), logged.String()}
	for _, out := range outputs {
		if strings.Contains(out, validKey) || !strings.Contains(out, "[REDACTED]") {
			t.Errorf("output %q leaks the key or lacks the redaction marker", out)
		}
	}
}

func TestStatusMessages(t *testing.T) {
	if PendingMessage != "Remote connection check is pending — upstream has not yet been verified" {
		t.Errorf("PendingMessage %q differs from the documented text", PendingMessage)
	}
	if DefaultTimeout != 10*time.Second {
		t.Errorf("DefaultTimeout %s, want 10s", DefaultTimeout)
	}
}
