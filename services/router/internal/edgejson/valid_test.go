package edgejson

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// FuzzValid: whatever Valid accepts, encoding/json accepts too; Members
// accepts exactly the valid objects and hands over each member as
// encoding/json decodes it.
func FuzzValid(f *testing.F) {
	f.Add([]byte(`{"choices":[{"delta":{"content":"x"}}]}`))
	f.Add([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := Valid(b)
		if valid && !json.Valid(b) {
			t.Fatalf("Valid accepts %q, encoding/json does not", b)
		}
		var keys []string
		keysValid := ValidKeys(b, func(key []byte, escaped bool, value []byte) {
			if escaped != bytes.Contains(key, []byte(`\`)) {
				t.Fatalf("ValidKeys(%q): key %q escaped=%v", b, key, escaped)
			}
			if !escaped {
				keys = append(keys, string(key)+"="+string(value[:1]))
			}
		})
		if keysValid != valid {
			t.Fatalf("ValidKeys(%q) = %v, Valid %v", b, keysValid, valid)
		}
		if valid {
			if want := decodedKeys(b); strings.Join(keys, ",") != strings.Join(want, ",") {
				t.Fatalf("ValidKeys(%q) keys %q, encoding/json %q", b, keys, want)
			}
		}
		got := map[string]json.RawMessage{}
		isObject := Members(b, func(key, value []byte) { got[string(key)] = value })
		var want map[string]json.RawMessage
		wantObject := valid && json.Unmarshal(b, &want) == nil
		if isObject != wantObject {
			t.Fatalf("Members(%q) = %v, want %v", b, isObject, wantObject)
		}
		for k, v := range got {
			if w, ok := want[k]; isObject && !strings.Contains(k, `\`) && (!ok || !bytes.Equal(w, v)) {
				t.Fatalf("Members(%q): member %q = %q, encoding/json has %q", b, k, v, w)
			}
		}
	})
}

// decodedKeys lists every unescaped object key of the valid JSON b in
// document order, as
// "key=" and the first byte of its value, from encoding/json's tokens.
func decodedKeys(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var keys []string
	type level struct{ object, wantKey bool }
	var stack []level
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		top := len(stack) - 1
		closing := tok == json.Delim('}') || tok == json.Delim(']')
		isKey := top >= 0 && stack[top].object && stack[top].wantKey && !closing
		if top >= 0 && stack[top].object && !closing {
			stack[top].wantKey = !stack[top].wantKey
		}
		if isKey {
			k := tok.(string)
			off := dec.InputOffset() // just past the key; the value follows ':'
			rest := bytes.TrimLeft(b[off:], " \t\r\n")
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if raw := b[:off]; !bytes.HasSuffix(raw, []byte(`"`+k+`"`)) {
				continue // escaped in the input: ValidKeys reports it as escaped
			}
			keys = append(keys, k+"="+string(rest[:1]))
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, level{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
	}
}

func TestValidKeys(t *testing.T) {
	in := []byte(`{"id":"c", "choices" : [ {"delta":{"content":"\"usage\":{"},"finish_reason": "stop"}],"us\u0061ge":null}`)
	var got []string
	if !ValidKeys(in, func(key []byte, escaped bool, value []byte) {
		got = append(got, fmt.Sprintf("%s/%v/%c", key, escaped, value[0]))
	}) {
		t.Fatal("ValidKeys refused a valid chunk")
	}
	want := `id/false/" choices/false/[ delta/false/{ content/false/" finish_reason/false/" us\u0061ge/true/n`
	if strings.Join(got, " ") != want {
		t.Fatalf("keys\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if ValidKeys([]byte(`{"a":1,}`), func([]byte, bool, []byte) {}) {
		t.Error("ValidKeys accepted a trailing comma")
	}
}

func TestMembers(t *testing.T) {
	in := []byte(` {"type":"content_block_delta", "index":0,"delta":{"type":"text_delta","text":"hi"}} `)
	var keys []string
	var delta []byte
	if !Members(in, func(key, value []byte) {
		keys = append(keys, string(key))
		if string(key) == "delta" {
			delta = value
		}
	}) {
		t.Fatal("Members refused a valid object")
	}
	if strings.Join(keys, ",") != "type,index,delta" || string(delta) != `{"type":"text_delta","text":"hi"}` {
		t.Fatalf("keys %v, delta %s", keys, delta)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{}x`, `{"a":1,}`, `{"a":tru}`, `{"a" 1}`, `{"a":1`, "{\"a\":\"\xff\"}", ``} {
		if Members([]byte(bad), func(_, _ []byte) {}) {
			t.Errorf("Members(%q) = true", bad)
		}
	}
	if !Members([]byte(`{}`), func(_, _ []byte) { t.Error("member in {}") }) {
		t.Error("Members({}) = false")
	}
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
