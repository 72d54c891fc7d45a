package edge

import (
	"strings"
	"testing"
)

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
