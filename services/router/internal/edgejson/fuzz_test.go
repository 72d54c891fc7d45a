package edgejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzScan checks that Scan never panics, never accepts what encoding/json
// rejects, never rejects as a syntax error what encoding/json accepts,
// respects the depth limit, and agrees with encoding/json on model and stream.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Scan(body)
		depth, depthOK := maxDepth(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Code == CodeInvalidJSON && json.Valid(body) && utf8.Valid(body) && depthOK && depth <= DefaultMaxDepth {
				t.Fatalf("rejected valid JSON as %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON")
		}
		if !depthOK || depth > DefaultMaxDepth {
			t.Fatalf("accepted depth %d", depth)
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("encoding/json cannot decode an accepted body: %v", err)
		}
		if m, _ := doc["model"].(string); req.HasModel != (doc["model"] != nil) || m != req.Model {
			t.Fatalf("model %q/%v, encoding/json saw %v", req.Model, req.HasModel, doc["model"])
		}
		if s, _ := doc["stream"].(bool); s != req.Stream {
			t.Fatalf("stream %v, encoding/json saw %v", req.Stream, doc["stream"])
		}
	})
}

// FuzzRewriteModel checks that a rewrite changes only the model token and
// that scanning the result yields the new model and the same other fields.
func FuzzRewriteModel(f *testing.F) {
	f.Add([]byte(`{"model":"alias","stream":true}`), "gpt-4o")
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		before, err := Scan(body)
		if err != nil || !before.HasModel || !utf8.ValidString(model) {
			return
		}
		out, err := before.RewriteModel(body, model)
		if err != nil {
			t.Fatalf("RewriteModel: %v", err)
		}
		start, end := before.modelStart, before.modelEnd
		if !bytes.Equal(out[:start], body[:start]) || !bytes.Equal(out[len(out)-(len(body)-end):], body[end:]) {
			t.Fatalf("bytes outside the model changed:\n%q\n%q", body, out)
		}
		after, err := Scan(out)
		if checkModel([]byte(model), DefaultMaxModelBytes) != "" {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("rescan of unacceptable model %q: %v", model, err)
			}
			return
		}
		if err != nil || after.Model != model {
			t.Fatalf("rescan = %q, %v; want %q", after.Model, err, model)
		}
		after.Model, after.modelEnd, before.Model, before.modelEnd = "", 0, "", 0
		if after != before {
			t.Fatalf("fields changed:\n%+v\n%+v", before, after)
		}
	})
}

// maxDepth is an independent, deliberately naive nesting counter. ok is
// false when brackets do not balance.
func maxDepth(body []byte) (depth int, ok bool) {
	cur, inString := 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			cur++
			depth = max(depth, cur)
		case c == '}' || c == ']':
			cur--
		}
	}
	return depth, cur == 0 && !inString
}

// typicalChat is a ~2 KB chat completion request: a system prompt, a short
// conversation and sampling parameters, as SDKs send them.
var typicalChat = []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},` +
	`"temperature":0.7,"top_p":1,"max_tokens":512,"user":"user-1234","messages":[` +
	`{"role":"system","content":"` + strings.Repeat("You are a helpful assistant. Answer briefly. ", 12) + `"},` +
	`{"role":"user","content":"` + strings.Repeat("Please summarise the following text. ", 14) + `"},` +
	`{"role":"assistant","content":"` + strings.Repeat("Here is a short summary of it. ", 10) + `"},` +
	`{"role":"user","content":"` + strings.Repeat("Thanks! Now in French, please. ", 10) + `"}]}`)

func BenchmarkScanTypicalChat(b *testing.B) {
	b.SetBytes(int64(len(typicalChat)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(typicalChat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewriteModelAfterScan(b *testing.B) {
	req, err := Scan(typicalChat)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(typicalChat)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := req.RewriteModel(typicalChat, "gpt-4o-mini-2024-07-18"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanHostile(b *testing.B) {
	bodies := map[string][]byte{
		"100k-deep":   []byte(nested(100_000)),
		"1MB-string":  []byte(`{"model":"m","input":"` + strings.Repeat("x", 1<<20) + `"}`),
		"1M-elements": []byte(`{"model":"m","input":[` + strings.Repeat("1,", 1_000_000) + `1]}`),
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_, _ = Scan(body)
			}
		})
	}
}
