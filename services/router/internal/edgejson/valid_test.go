package edgejson

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"id":"c","choices":[{"delta":{"content":"hé\n"}}],"usage":null}`, true},
		{` [1, -2.5e3, true, false, null, "x"] `, true},
		{`"\u00e9\ud83d\ude00"`, true},
		{`{}`, true},
		{``, false},
		{`{"a":1}x`, false},
		{`{"a":1`, false},
		{`{"a":tru}`, false},
		{`{"a":01}`, false},
		{`{"a":"` + "\x01" + `"}`, false},
		{`{"a":"\q"}`, false},
		{"{\"a\":\"\xff\"}", false},
		{`{"a":1e999}`, false},
		{`{a:1}`, false},
		{strings.Repeat("[", validMaxDepth+1) + strings.Repeat("]", validMaxDepth+1), false},
	}
	for _, tt := range tests {
		if got := Valid([]byte(tt.in)); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if Valid([]byte(tt.in)) && !json.Valid([]byte(tt.in)) {
			t.Errorf("Valid(%q) accepts what encoding/json rejects", tt.in)
		}
	}
}

// FuzzValid: whatever Valid accepts, encoding/json accepts too.
func FuzzValid(f *testing.F) {
	f.Add([]byte(`{"choices":[{"delta":{"content":"x"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if Valid(b) && !json.Valid(b) {
			t.Fatalf("Valid accepts %q, encoding/json does not", b)
		}
	})
}

var chunk = []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"bench-stream","choices":[{"index":0,"delta":{"content":"token 17 "},"logprobs":null,"finish_reason":null}]}`)

func BenchmarkValidChunk(b *testing.B) {
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if !Valid(chunk) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkEncodingJSONValidChunk(b *testing.B) {
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if !json.Valid(chunk) {
			b.Fatal("invalid")
		}
	}
}
