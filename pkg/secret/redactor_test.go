package secret

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// propertyForms are the forms the fuzz property names: raw, base64 (std and
// URL, padded or not) and URL-encoded. They are computed here independently
// of forms.go so the test does not trust the code under test.
func propertyForms(value string) map[string]string {
	b := []byte(value)
	return map[string]string{
		"raw":           value,
		"base64.std":    base64.StdEncoding.EncodeToString(b),
		"base64.raw":    base64.RawStdEncoding.EncodeToString(b),
		"base64.url":    base64.URLEncoding.EncodeToString(b),
		"base64.rawurl": base64.RawURLEncoding.EncodeToString(b),
		"query":         url.QueryEscape(value),
		"path":          url.PathEscape(value),
	}
}

func assertNoForm(t *testing.T, out, value string) {
	t.Helper()
	for name, form := range propertyForms(value) {
		if strings.Contains(out, form) {
			t.Fatalf("output contains the %s form %q of the secret: %q", name, form, out)
		}
	}
}

func TestRedactForms(t *testing.T) {
	key := "sk-live/AbC+123?&=xyz"
	r := NewRedactor(New(key))
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + key))
	tests := []struct {
		name string
		text string
	}{
		{"raw", "upstream said: invalid key " + key},
		{"std base64", "blob=" + base64.StdEncoding.EncodeToString([]byte(key))},
		{"raw std base64", base64.RawStdEncoding.EncodeToString([]byte(key)) + "!"},
		{"url base64", base64.URLEncoding.EncodeToString([]byte(key))},
		{"raw url base64", "x" + base64.RawURLEncoding.EncodeToString([]byte(key))},
		{"query escaped", "GET /v1?key=" + url.QueryEscape(key)},
		{"path escaped", "/keys/" + url.PathEscape(key) + "/x"},
		{"lower hex", "sk-live%2fAbC%2b123%3f%26%3dxyz"},
		{"json escaped", `{"k":"sk-live/AbC+123?\u0026=xyz"}`},
		{"basic auth", "Authorization: Basic " + basic},
		{"twice", key + " and " + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := r.Redact(tt.text)
			assertNoForm(t, out, key)
			if strings.Contains(tt.text, "sk-live/AbC+123?\\u0026=xyz") && strings.Contains(out, "123?") {
				t.Fatalf("json-escaped form survived: %q", out)
			}
			if tt.name == "basic auth" && strings.Contains(out, basic[8:24]) {
				t.Fatalf("base64 fragment of the key survived: %q", out)
			}
			if !strings.Contains(out, Redacted) {
				t.Errorf("expected a %s mask in %q", Redacted, out)
			}
		})
	}
}

func TestRedactKeepsUnrelatedText(t *testing.T) {
	r := NewRedactor(New(canary))
	tests := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"key=" + canary + "; done", "key=[REDACTED]; done"},
		{canary + canary, "[REDACTED]"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactMaskCannotReassembleSecret(t *testing.T) {
	tests := []struct {
		secret, text string
	}{
		{"RED", "[REDACTED] RED"}, // secret inside the default mask
		{"]]", "]]]"},             // straddles a mask boundary
		{"*", "a*b"},              // spoils a fallback mask
		{"aXa", "aXaXaXa"},        // overlapping occurrences
		{"D]D", "D]D]D"},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			out := NewRedactor(New(tt.secret)).Redact(tt.text)
			assertNoForm(t, out, tt.secret)
		})
	}
}

func TestRedactorAddRemove(t *testing.T) {
	r := NewRedactor()
	old, next := New("old-key-1234567890"), New("new-key-0987654321")
	r.Add(old)
	r.Add(old)
	r.Add(next)
	r.Add(Secret{})
	if r.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (empty ignored, duplicates counted once)", r.Len())
	}
	r.Remove(old)
	if got := r.Redact(old.Reveal()); got != Redacted {
		t.Errorf("one Remove of a twice-added secret must keep it: got %q", got)
	}
	r.Remove(old)
	if got := r.Redact(old.Reveal()); got != old.Reveal() {
		t.Errorf("secret still redacted after its last Remove: got %q", got)
	}
	if got := r.Redact(next.Reveal()); got != Redacted {
		t.Errorf("other secret no longer redacted: %q", got)
	}
}

func TestRedactBytesReturnsInputWhenClean(t *testing.T) {
	r := NewRedactor(New(canary))
	in := []byte("clean line")
	if out := r.RedactBytes(in); &out[0] != &in[0] {
		t.Error("clean input was copied")
	}
	if out := r.RedactBytes([]byte(canary)); string(out) != Redacted {
		t.Errorf("got %q", out)
	}
}

func TestRedactingWriterWithSlog(t *testing.T) {
	var buf bytes.Buffer
	r := NewRedactor(New(canary))
	logger := slog.New(slog.NewJSONHandler(r.Writer(&buf), nil))
	// A raw string attribute bypasses the Secret type: the writer is the
	// last line of defence, e.g. an upstream error body that echoes the key.
	logger.Error("upstream 401", "body", fmt.Sprintf(`{"error":"Incorrect API key provided: %s"}`, canary),
		"url", "https://x/?key="+url.QueryEscape(canary))
	if strings.Contains(buf.String(), canary) || !strings.Contains(buf.String(), Redacted) {
		t.Errorf("log line not redacted: %s", buf.String())
	}
}

func FuzzRedact(f *testing.F) {
	f.Add(canary, "prefix ", " suffix", uint8(0))
	f.Add("RED", "[", "ACTED]", uint8(1))
	f.Add("a", "aaaa", "aaaa", uint8(5))
	f.Add("k+/=?&", "Basic ", "==", uint8(2))
	f.Fuzz(func(t *testing.T, value, prefix, suffix string, pick uint8) {
		if value == "" {
			return
		}
		forms := propertyForms(value)
		names := []string{"raw", "base64.std", "base64.raw", "base64.url", "base64.rawurl", "query", "path"}
		injected := forms[names[int(pick)%len(names)]]
		text := prefix + injected + suffix + prefix + value
		r := NewRedactor(New(value))
		out := r.Redact(text)
		assertNoForm(t, out, value)
		if again := r.Redact(out); again != out {
			t.Fatalf("Redact is not idempotent: %q then %q", out, again)
		}
	})
}

func BenchmarkRedactCleanLine(b *testing.B) {
	r := benchRedactor(20)
	line := `{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"request done","service":"openai-gpt-4o-mini","status":200,"latency_ms":412}`
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Redact(line)
	}
}

func BenchmarkRedactDirtyLine(b *testing.B) {
	r := benchRedactor(20)
	line := `{"level":"ERROR","msg":"upstream 401","body":"Incorrect API key provided: sk-bench-0000000000000007"}`
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Redact(line)
	}
}

func benchRedactor(n int) *Redactor {
	r := NewRedactor()
	for i := range n {
		r.Add(New(fmt.Sprintf("sk-bench-%016d", i)))
	}
	return r
}

func TestRedactorConcurrentUse(t *testing.T) {
	r := NewRedactor()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r.Add(New(fmt.Sprintf("sk-concurrent-%04d", i)))
		}
	}()
	for range 200 {
		_ = r.Redact("sk-concurrent-0001 and some text")
	}
	<-done
	if got := r.Redact("sk-concurrent-0199"); got != Redacted {
		t.Errorf("got %q", got)
	}
}
