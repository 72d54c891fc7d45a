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
