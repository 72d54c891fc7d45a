package translate

import (
	"encoding/json"
	"testing"
)

// TestTextDeltaFastPathIsByteIdentical: for every text delta the scan
// accepts, the chunk equals what decoding and re-encoding would produce;
// what it refuses goes to the full decode.
func TestTextDeltaFastPathIsByteIdentical(t *testing.T) {
	tests := []struct {
		event string
		fast  bool
	}{
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`, true},
		{`{"delta":{"text":"a \"quoted\"\n\ttab \\ back","type":"text_delta"},"type":"content_block_delta","index":0}`, true},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"é 😀 <&>"}}`, true},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}`, true},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u00e9"}}`, false},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\/b"}}`, false},
		{"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\u2028b\"}}", false},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}`, false},
		{`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`, false},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}`, false},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} {}`, false},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":tru}}`, false},
	}
	for _, tt := range tests {
		quoted, k := fastEvent([]byte(tt.event))
		if ok := k == fastText; ok != tt.fast {
			t.Errorf("fastEvent(%s) = %v, want text %v", tt.event, k, tt.fast)
			continue
		}
		if k != fastText {
			continue
		}
		var e anthropicEvent
		if err := json.Unmarshal([]byte(tt.event), &e); err != nil {
			t.Fatal(err)
		}
		cw := newChunkWriter("id", "m", 1, false)
		fast := string(cw.contentQuoted(0, quoted))
		if slow := string(cw.content(0, e.Delta.Text)); fast != slow {
			t.Errorf("%s:\nfast %s\nslow %s", tt.event, fast, slow)
		}
	}
}

// Events with nothing to translate skip the decode only when valid; the
// rest (and anything invalid) go to the full decode, which refuses it.
func TestFastEventKinds(t *testing.T) {
	for event, want := range map[string]fastKind{
		`{"type":"ping"}`:                                fastNothing,
		`{"type":"content_block_stop","index":0}`:        fastNothing,
		`{"type":"content_block_stop","index":0`:         fastDecode,
		`{"type":"ping","x":tru}`:                        fastDecode,
		`{"type":"message_stop"}`:                        fastDecode,
		`{"type":"message_start","message":{"id":"m"}}`:  fastDecode,
		`{"type":"error","error":{"type":"overloaded"}}`: fastDecode,
		`["ping"]`: fastDecode,
	} {
		if _, got := fastEvent([]byte(event)); got != want {
			t.Errorf("fastEvent(%s) = %v, want %v", event, got, want)
		}
	}
}

// FuzzTextDelta: the fast path never disagrees with decode and re-encode.
func FuzzTextDelta(f *testing.F) {
	f.Add(`Hello \"x\"\n`)
	f.Fuzz(func(t *testing.T, text string) {
		event := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"` + text + `"}}`)
		quoted, k := fastEvent(event)
		if k != fastText {
			return
		}
		var e anthropicEvent
		if err := json.Unmarshal(event, &e); err != nil {
			t.Fatalf("fast path took an event encoding/json rejects: %v", err)
		}
		cw := newChunkWriter("id", "m", 1, false)
		if fast, slow := string(cw.contentQuoted(0, quoted)), string(cw.content(0, e.Delta.Text)); fast != slow {
			t.Fatalf("fast %s, slow %s", fast, slow)
		}
	})
}
