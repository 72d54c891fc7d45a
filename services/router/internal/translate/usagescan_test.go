package translate

import (
	"bytes"
	"encoding/json"
	"testing"
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

// TestChunkMarkersMatchContains: the one-pass scan finds exactly what a
// bytes.Contains per marker finds.
func TestChunkMarkersMatchContains(t *testing.T) {
	for _, chunk := range []string{
		`{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":3}}`,
		`{"error":{"message":"x"}}`,
		`{"choices":[{"content_filter_offsets":{}}]}`,
		`{"choices":[{"delta":{"content":"say \"usage\":{ and \"error\""}}]}`,
		`"`, `""`, `x"f`, ``,
	} {
		data := []byte(chunk)
		finish, special := chunkMarkers(data)
		wantFinish := bytes.Contains(data, finishMarker)
		wantSpecial := bytes.Contains(data, usageMarker) || bytes.Contains(data, errorMarker) ||
			bytes.Contains(data, emptyChoices) || bytes.Contains(data, filterMarker)
		if finish != wantFinish || special != wantSpecial {
			t.Errorf("%s: finish %v special %v; want %v %v", chunk, finish, special, wantFinish, wantSpecial)
		}
	}
}
