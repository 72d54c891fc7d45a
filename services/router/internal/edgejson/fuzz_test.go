package edgejson

import (
	"bytes"
	"encoding/json"
	"errors"
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
