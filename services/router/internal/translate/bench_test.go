package translate

import (
	"os"
	"testing"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

func benchRequest(b *testing.B, protocol, path string) {
	body, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	chat, _ := ForProtocol(protocol, OpenAIConfig{})
	b.ReportAllocs()
	for b.Loop() {
		req, err := DecodeChatRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := chat.Request(req, goldenTarget); err != nil {
			b.Fatal(err)
		}
	}
}

// Request translation cost: decode the edge body and build the upstream call.
func BenchmarkAnthropicRequest(b *testing.B) {
	benchRequest(b, ProtocolAnthropic, "testdata/golden/anthropic/tools_parallel/request.json")
}

func BenchmarkGeminiRequest(b *testing.B) {
	benchRequest(b, ProtocolGemini, "testdata/golden/gemini/tools_history/request.json")
}

func BenchmarkOpenAIPassthroughRequest(b *testing.B) {
	benchRequest(b, ProtocolOpenAI, "testdata/golden/openai/passthrough_basic/request.json")
}

// benchChunk measures one typical text-delta event through a live stream.
func benchChunk(b *testing.B, protocol string, start, delta sse.Event) {
	req, err := DecodeChatRequest([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	chat, _ := ForProtocol(protocol, OpenAIConfig{})
	s := chat.NewStream(req)
	sink := 0
	emit := func(chunk []byte) error { sink += len(chunk); return nil }
	if err := s.Event(start, emit); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Event(delta, emit); err != nil {
			b.Fatal(err)
		}
	}
	if sink == 0 {
		b.Fatal("nothing emitted")
	}
}

func BenchmarkAnthropicStreamChunk(b *testing.B) {
	benchChunk(b, ProtocolAnthropic,
		sse.Event{Name: "message_start", Data: []byte(`{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":120,"output_tokens":1}}}`)},
		sse.Event{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there, how are"}}`)})
}

// BenchmarkAnthropicStreamBlockStop: an event with nothing to translate
// (content_block_stop, ping) is validated, not decoded.
func BenchmarkAnthropicStreamBlockStop(b *testing.B) {
	benchChunk(b, ProtocolAnthropic,
		sse.Event{Name: "message_start", Data: []byte(`{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":120,"output_tokens":1}}}`)},
		sse.Event{Name: "content_block_stop", Data: []byte(`{"type":"content_block_stop","index":0}`)})
}

func BenchmarkAnthropicStreamToolChunk(b *testing.B) {
	benchChunk(b, ProtocolAnthropic,
		sse.Event{Name: "content_block_start", Data: []byte(`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}}`)},
		sse.Event{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Os"}}`)})
}

func BenchmarkGeminiStreamChunk(b *testing.B) {
	chunk := []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there, how are"}]},"index":0}],"usageMetadata":{"promptTokenCount":61,"candidatesTokenCount":9,"totalTokenCount":70},"modelVersion":"gemini-2.5-flash","responseId":"abc"}`)
	benchChunk(b, ProtocolGemini, sse.Event{Data: chunk}, sse.Event{Data: chunk})
}

func BenchmarkOpenAIStreamChunk(b *testing.B) {
	chunk := []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"content":"Hello there, how are"},"logprobs":null,"finish_reason":null}]}`)
	benchChunk(b, ProtocolOpenAI, sse.Event{Data: chunk}, sse.Event{Data: chunk})
}
