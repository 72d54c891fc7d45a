package fakes

import (
	"encoding/json"
	"strings"
	"testing"
)

func anthropicHeaders(k string) map[string]string {
	return map[string]string{"x-api-key": k, "anthropic-version": "2023-06-01"}
}

const anthropicBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`

func TestAnthropicShapes(t *testing.T) {
	withKey := Config{APIKey: key}
	h := anthropicHeaders(key)
	msg := func(fields string) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":64,` + fields + `}`
	}
	runShapeCases(t, []shapeCase{
		{"model info", Anthropic, withKey, "GET", "/v1/models/claude-sonnet-4-5", h, "", 200,
			map[string]any{"type": "model", "id": "claude-sonnet-4-5", "display_name": "claude-sonnet-4-5"}, nil},
		{"list models", Anthropic, withKey, "GET", "/v1/models", h, "", 200,
			map[string]any{"data.0.id": "claude-sonnet-4-5", "has_more": false, "first_id": "claude-sonnet-4-5"}, nil},
		{"unknown model", Anthropic, withKey, "GET", "/v1/models/claude-x", h, "", 404,
			map[string]any{"type": "error", "error.type": "not_found_error", "request_id": "req_fake000001"}, nil},
		{"bad key", Anthropic, withKey, "POST", "/v1/messages", anthropicHeaders("sk-ant-bad"), anthropicBody, 401,
			map[string]any{"type": "error", "error.type": "authentication_error", "error.message": "invalid x-api-key"}, nil},
		{"bearer is not x-api-key", Anthropic, withKey, "POST", "/v1/messages",
			map[string]string{"Authorization": "Bearer " + key, "anthropic-version": "2023-06-01"}, anthropicBody, 401,
			map[string]any{"error.type": "authentication_error"}, nil},
		{"missing version", Anthropic, withKey, "POST", "/v1/messages", map[string]string{"x-api-key": key}, anthropicBody, 400,
			map[string]any{"error.type": "invalid_request_error", "error.message": "anthropic-version: header is required"}, nil},
		{"max_tokens required", Anthropic, Config{}, "POST", "/v1/messages", h,
			`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`, 400,
			map[string]any{"error.message": "max_tokens: Field required"}, nil},
		{"temperature above 1", Anthropic, Config{}, "POST", "/v1/messages", h,
			msg(`"temperature":1.5,"messages":[{"role":"user","content":"hi"}]`), 400,
			map[string]any{"error.message": "temperature: range: 0..1"}, nil},
		{"system role rejected", Anthropic, Config{}, "POST", "/v1/messages", h,
			msg(`"messages":[{"role":"system","content":"x"}]`), 400,
			map[string]any{"error.message": "messages.0.role: Input should be 'user' or 'assistant'"}, nil},
		{"empty text block", Anthropic, Config{}, "POST", "/v1/messages", h,
			msg(`"messages":[{"role":"user","content":[{"type":"text","text":" "}]}]`), 400,
			map[string]any{"error.message": "messages.0: text content blocks must contain non-whitespace text"}, nil},
		{"message", Anthropic, Config{Text: "Hi.", Usage: Usage{Prompt: 100, Cached: 60, CacheWrite: 10, Completion: 7}},
			"POST", "/v1/messages", h, anthropicBody, 200,
			map[string]any{"type": "message", "role": "assistant", "content.0.type": "text", "content.0.text": "Hi.",
				"stop_reason": "end_turn", "stop_sequence": nil, "usage.input_tokens": 30, "usage.cache_read_input_tokens": 60,
				"usage.cache_creation_input_tokens": 10, "usage.output_tokens": 7}, nil},
		{"tool use", Anthropic, Config{Thinking: "hmm", ToolCalls: []ToolCall{{"get_weather", `{"city":"Oslo"}`}}},
			"POST", "/v1/messages", h, anthropicBody, 200,
			map[string]any{"content.0.type": "thinking", "content.1.type": "tool_use", "content.1.name": "get_weather",
				"content.1.input.city": "Oslo", "stop_reason": "tool_use"}, nil},
		{"count tokens", Anthropic, Config{}, "POST", "/v1/messages/count_tokens", h, anthropicBody, 200,
			map[string]any{"input_tokens": 12}, nil},
	})
}

// anthropicSummary is what a client reassembles from an Anthropic stream.
type anthropicSummary struct {
	names      []string
	text       string
	thinking   string
	toolInput  map[int]string
	input      int
	output     int
	stopReason string
}

func summarizeAnthropic(t *testing.T, events []sseEvent) anthropicSummary {
	t.Helper()
	s := anthropicSummary{toolInput: map[int]string{}}
	openBlock := -1
	for _, ev := range events {
		m := object(t, []byte(ev.Data))
		if m["type"] != ev.Name {
			t.Fatalf("event %q carries type %v", ev.Name, m["type"])
		}
		s.names = append(s.names, ev.Name)
		switch ev.Name {
		case "message_start":
			s.input = num(at(m, "message.usage.input_tokens")) + num(at(m, "message.usage.cache_read_input_tokens")) +
				num(at(m, "message.usage.cache_creation_input_tokens"))
		case "content_block_start":
			if idx := num(m["index"]); idx != openBlock+1 {
				t.Fatalf("block index %d after %d", idx, openBlock)
			}
			openBlock = num(m["index"])
		case "content_block_delta":
			s.text += str(at(m, "delta.text"))
			s.thinking += str(at(m, "delta.thinking"))
			s.toolInput[num(m["index"])] += str(at(m, "delta.partial_json"))
		case "message_delta":
			s.output = num(at(m, "usage.output_tokens")) // cumulative: assign
			s.stopReason = str(at(m, "delta.stop_reason"))
		}
	}
	return s
}

func str(v any) string { s, _ := v.(string); return s }

func TestAnthropicStream(t *testing.T) {
	f := Start(t, Anthropic, Config{Thinking: "Think.", Text: "Let me check.", Chunks: 3,
		ToolCalls: []ToolCall{{"get_weather", `{"city":"Oslo"}`}}, Usage: Usage{Prompt: 120, Cached: 20, Completion: 38}})
	status, _, body := call(t, "POST", f.URL+"/v1/messages", anthropicHeaders(""),
		strings.Replace(anthropicBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	s := summarizeAnthropic(t, parseSSE(t, body, false))
	if s.names[0] != "message_start" || s.names[1] != "ping" || s.names[len(s.names)-1] != "message_stop" {
		t.Fatalf("event order %v", s.names)
	}
	var args map[string]string
	if err := json.Unmarshal([]byte(s.toolInput[2]), &args); err != nil || args["city"] != "Oslo" {
		t.Fatalf("tool input %q: %v", s.toolInput[2], err)
	}
	if s.text != "Let me check." || s.thinking != "Think." || s.stopReason != "tool_use" {
		t.Errorf("text %q thinking %q stop %q", s.text, s.thinking, s.stopReason)
	}
	if s.input != 120 || s.output != 38 {
		t.Errorf("usage input %d output %d, want 120/38", s.input, s.output)
	}
}

func TestAnthropicStreamErrorEvent(t *testing.T) {
	f := Start(t, Anthropic, Config{Chunks: 5, ErrorAfter: 2})
	_, _, body := call(t, "POST", f.URL+"/v1/messages", anthropicHeaders(""),
		strings.Replace(anthropicBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
	events := parseSSE(t, body, false)
	last := events[len(events)-1]
	m := object(t, []byte(last.Data))
	if last.Name != "error" || at(m, "error.type") != "overloaded_error" {
		t.Fatalf("last event %+v", last)
	}
	if s := summarizeAnthropic(t, events); s.text != "tok1 tok2 " {
		t.Fatalf("text before the error %q", s.text)
	}
	if st := f.Stats(); st.StreamErrs != 1 || st.Completed != 0 {
		t.Fatalf("stats %+v", st)
	}
}
