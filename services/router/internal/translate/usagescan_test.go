package translate

import (
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/services/router/internal/edgejson"
	"github.com/switchyard/switchyard/services/router/internal/sse"
)

// TestScanOpenAIUsageMatchesDecoding: whenever the scan answers, it
// answers what decoding into openAIUsage gives.
func TestScanOpenAIUsageMatchesDecoding(t *testing.T) {
	cases := []struct {
		usage  string
		wantOK bool
	}{
		{`{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}`, true},
		{`{"prompt_tokens":11,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},` +
			`"completion_tokens_details":{"reasoning_tokens":2,"accepted_prediction_tokens":0}}`, true},
		{`{"prompt_tokens":null,"completion_tokens":-4,"prompt_tokens_details":null}`, true},
		{`{ "prompt_tokens" : 5 , "completion_tokens" : 0 }`, true},
		{`null`, true},
		{`{"prompt_tokens":1.5}`, false},
		{`{"prompt_tokens":1e3}`, false},
		{`{"prompt_tokens":"12"}`, false},
		{`{"prompt_tokens":1234567890123456789}`, false},
		{`{"prompt_tokens_details":[]}`, false},
		{`[1,2]`, false},
	}
	for _, tc := range cases {
		got, ok := scanOpenAIUsage([]byte(tc.usage))
		if ok != tc.wantOK {
			t.Errorf("%s: ok = %v; want %v", tc.usage, ok, tc.wantOK)
			continue
		}
		if !ok {
			continue
		}
		var u *openAIUsage
		if tc.usage != "null" {
			u = new(openAIUsage)
			if err := json.Unmarshal([]byte(tc.usage), u); err != nil {
				t.Fatalf("%s: %v", tc.usage, err)
			}
		}
		if want := u.toUsage(); got != want {
			t.Errorf("%s: scanned %+v; decoded %+v", tc.usage, got, want)
		}
	}
}

func BenchmarkScanOpenAIUsage(b *testing.B) {
	usage := []byte(`{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":` +
		`{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := scanOpenAIUsage(usage); !ok {
			b.Fatal("not scanned")
		}
	}
}

// TestChunkMarks: the marks come from keys as keys, whatever the
// whitespace, and not from look-alike text inside strings.
func TestChunkMarks(t *testing.T) {
	for _, tt := range []struct {
		chunk           string
		finish, special bool
	}{
		{`{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`, false, false},
		{`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, true, false},
		{`{"choices":[{"index":0,"delta":{},"finish_reason" : "stop"}]}`, true, false},
		{`{"choices":[],"usage":{"prompt_tokens":3}}`, false, true},
		{`{"choices": [ ], "usage": {"prompt_tokens": 3}}`, false, true},
		{`{"choices":[{"delta":{"content":"x"}}],"usage":null}`, false, false},
		{`{"error":{"message":"x"}}`, false, true},
		{`{"choices":[{"content_filter_offsets":{}}]}`, false, true},
		{`{"choices":[{"delta":{"content":"say \"usage\":{ and \"error\""}}]}`, false, false},
		{`{"us\u0061ge":{"prompt_tokens":3}}`, false, true},
	} {
		var m chunkMarks
		if !edgejson.ValidKeys([]byte(tt.chunk), m.key) {
			t.Fatalf("%s: not valid", tt.chunk)
		}
		if m.finish != tt.finish || m.special != tt.special {
			t.Errorf("%s: finish %v special %v; want %v %v", tt.chunk, m.finish, m.special, tt.finish, tt.special)
		}
	}
}

// A usage chunk written with spaces after the colons (Python's json.dumps
// default) is metered: the byte-pattern markers this replaced missed it.
func TestSpacedUsageChunkIsCounted(t *testing.T) {
	st := openAIFamily{}.newStream(true)
	var out [][]byte
	emit := func(b []byte) error { out = append(out, append([]byte(nil), b...)); return nil }
	for _, data := range []string{
		`{"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]}`,
		`{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}`,
		`{"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}`,
	} {
		if err := st.Event(sse.Event{Data: []byte(data)}, emit); err != nil {
			t.Fatal(err)
		}
	}
	u, err := st.Finish(emit) // no [DONE]: the finish_reason alone ends the stream cleanly
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	if u.PromptTokens != 5 || u.CompletionTokens != 2 || len(out) != 3 {
		t.Fatalf("usage %+v, %d chunks out; want 5/2 and 3 chunks", u, len(out))
	}
}
