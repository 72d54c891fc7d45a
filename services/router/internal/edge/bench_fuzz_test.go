package edge

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// chatBody builds an OpenAI chat body with turns user/assistant exchanges
// of about size bytes each, plus two tools: a realistic agent request.
func chatBody(turns, size int) []byte {
	var b strings.Builder
	b.WriteString(`{"model":"gpt-x","temperature":0.2,"messages":[{"role":"system","content":"You are terse."}`)
	text := strings.Repeat("lorem ipsum dolor sit amet ", size/27+1)[:size]
	for i := range turns {
		fmt.Fprintf(&b, `,{"role":"user","content":[{"type":"text","text":%q}]},{"role":"assistant","content":%q}`, text, text)
		_ = i
	}
	b.WriteString(`],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",` +
		`"properties":{"city":{"type":"string"}},"required":["city"]}}},{"type":"function","function":{"name":"search",` +
		`"parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],"tool_choice":"auto"}`)
	return []byte(b.String())
}

// benchChat measures the whole edge handler for one non-streamed chat
// request to an OpenAI-family upstream on loopback.
func benchChat(b *testing.B, body []byte) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		openAIChatHandler(w, r)
	}))
	defer up.Close()
	s := New(testConfig(), staticRoutes{newTable(svc{name: "openai-a", model: "gpt-x", protocol: "OPENAI_V1", base: up.URL})},
		discardUsage{}, slog.New(slog.DiscardHandler))
	h := s.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkChatPassthroughSmall(b *testing.B) { benchChat(b, chatBody(3, 200)) }
func BenchmarkChatPassthroughLarge(b *testing.B) { benchChat(b, chatBody(40, 4000)) }

// FuzzParsePath: any path parses without panicking, and every accepted
// form is self-consistent (a passthrough path is rooted; a namespace never
// comes without a service; no name is a reserved segment).
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/v1/chat/completions", "/svc/v1/models/a/b", "/ns/svc/v1/embeddings",
		"/svc/passthrough/v1/audio/transcriptions", "/ns/svc/passthrough/x%2Fy", "//", "/v1", "/a/b/c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, ok := parsePath(path)
		if !ok {
			return
		}
		if p.passthrough && !strings.HasPrefix(p.rest, "/") {
			t.Fatalf("passthrough rest %q not rooted", p.rest)
		}
		if p.namespace != "" && p.service == "" {
			t.Fatal("namespace without a service")
		}
		for _, name := range []string{p.namespace, p.service} {
			if name == segmentAPI || name == segmentPassthrough || strings.Contains(name, "/") {
				t.Fatalf("bad name %q from %q", name, path)
			}
		}
	})
}

// FuzzUsageOf: a passthrough answer never yields negative usage or
// details above their totals.
func FuzzUsageOf(f *testing.F) {
	for _, s := range []string{`{"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
		`{"usage":{"input_tokens":5,"cache_read_input_tokens":3,"output_tokens":4}}`,
		`{"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"thoughtsTokenCount":1}}`,
		`{"usage":{"prompt_tokens":-5,"completion_tokens":9223372036854775807,"output_tokens":9223372036854775807}}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u := usageOf(body)
		if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalTokens < 0 || u.CachedTokens > u.PromptTokens ||
			u.ReasoningTokens > u.CompletionTokens || u.CachedTokens < 0 || u.ReasoningTokens < 0 {
			t.Fatalf("usage %+v from %q", u, body)
		}
	})
}
