package fakes

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// at reads a dotted path such as "error.code" or "data.0.id".
func at(m map[string]any, path string) any {
	var parts []any
	for _, p := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(p); err == nil {
			parts = append(parts, i)
		} else {
			parts = append(parts, p)
		}
	}
	return dig(m, parts...)
}

// shapeCase is one request and the status and JSON fields it must produce.
type shapeCase struct {
	name   string
	proto  Protocol
	cfg    Config
	method string
	path   string
	header map[string]string
	body   string
	status int
	want   map[string]any // dotted path → value (nil means JSON null)
	absent []string       // dotted paths that must not exist
}

func runShapeCases(t *testing.T, cases []shapeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, tc.proto, tc.cfg)
			status, _, body := call(t, tc.method, f.URL+tc.path, tc.header, tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", status, tc.status, body)
			}
			m := object(t, body)
			for path, want := range tc.want {
				got := at(m, path)
				if wantNum, ok := want.(int); ok {
					got, want = num(got), wantNum
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v; body %s", path, got, want, body)
				}
			}
			for _, path := range tc.absent {
				if got := at(m, path); got != nil {
					t.Errorf("%s = %#v, want absent", path, got)
				}
			}
		})
	}
}

const key = "sk-provider-0123456789abcdef"

func TestOpenAIShapes(t *testing.T) {
	auth := bearer(key)
	withKey := Config{APIKey: key}
	runShapeCases(t, []shapeCase{
		{"list models", OpenAI, withKey, "GET", "/v1/models", auth, "", 200,
			map[string]any{"object": "list", "data.0.id": "gpt-4o-mini", "data.0.object": "model", "data.0.owned_by": "openai"}, nil},
		{"retrieve id with slash", OpenAI, Config{Models: []string{"openai/gpt-4o"}}, "GET", "/v1/models/openai/gpt-4o", nil, "", 200,
			map[string]any{"id": "openai/gpt-4o", "object": "model"}, nil},
		{"retrieve unknown", OpenAI, withKey, "GET", "/v1/models/gpt-x", auth, "", 404,
			map[string]any{"error.code": "model_not_found", "error.type": "invalid_request_error", "error.param": nil,
				"error.message": "The model `gpt-x` does not exist or you do not have access to it."}, nil},
		{"missing key", OpenAI, withKey, "POST", "/v1/chat/completions", nil, openaiChatBody, 401,
			map[string]any{"error.code": nil, "error.type": "invalid_request_error", "error.message": openaiMissingKeyMsg}, nil},
		{"wrong key", OpenAI, withKey, "POST", "/v1/chat/completions", bearer("sk-wrong-9999999999"), openaiChatBody, 401,
			map[string]any{"error.code": "invalid_api_key", "error.type": "invalid_request_error"}, nil},
		{"chat", OpenAI, withKey, "POST", "/v1/chat/completions", auth, openaiChatBody, 200,
			map[string]any{"object": "chat.completion", "choices.0.message.role": "assistant",
				"choices.0.message.content": "tok1 tok2 tok3 tok4 ", "choices.0.finish_reason": "stop",
				"choices.0.logprobs": nil, "usage.prompt_tokens": 12, "usage.completion_tokens": 4, "usage.total_tokens": 16},
			[]string{"choices.0.message.tool_calls"}},
		{"chat tool call has null content", OpenAI, Config{ToolCalls: []ToolCall{{"get_weather", `{"city":"Oslo"}`}}},
			"POST", "/v1/chat/completions", nil, openaiChatBody, 200,
			map[string]any{"choices.0.message.content": nil, "choices.0.finish_reason": "tool_calls",
				"choices.0.message.tool_calls.0.type": "function", "choices.0.message.tool_calls.0.function.name": "get_weather",
				"choices.0.message.tool_calls.0.function.arguments": `{"city":"Oslo"}`}, nil},
		{"chat unknown model", OpenAI, Config{}, "POST", "/v1/chat/completions", nil, `{"model":"gpt-x","messages":[{}]}`, 404,
			map[string]any{"error.code": "model_not_found"}, nil},
		{"chat invalid json", OpenAI, Config{}, "POST", "/v1/chat/completions", nil, `{"model":`, 400,
			map[string]any{"error.type": "invalid_request_error"}, nil},
		{"chat empty messages", OpenAI, Config{}, "POST", "/v1/chat/completions", nil, `{"model":"gpt-4o-mini","messages":[]}`, 400,
			map[string]any{"error.param": "messages"}, nil},
		{"unknown path", OpenAI, Config{}, "POST", "/v1/nope", nil, `{}`, 404,
			map[string]any{"error.message": "Invalid URL (POST /v1/nope)"}, nil},
		{"completions", OpenAI, Config{Text: "hello"}, "POST", "/v1/completions", nil, `{"model":"gpt-4o-mini","prompt":"x"}`, 200,
			map[string]any{"object": "text_completion", "choices.0.text": "hello", "usage.total_tokens": 16}, nil},
		{"embeddings", OpenAI, Config{Usage: Usage{Prompt: 5}}, "POST", "/v1/embeddings", nil,
			`{"model":"gpt-4o-mini","input":["a","b"]}`, 200,
			map[string]any{"object": "list", "data.1.index": 1, "data.1.object": "embedding", "usage.prompt_tokens": 5,
				"usage.total_tokens": 5}, nil},
		{"vllm has no retrieve", VLLM, Config{}, "GET", "/v1/models/meta-llama/Llama-3.1-8B-Instruct", nil, "", 404,
			map[string]any{"detail": "Not Found"}, nil},
		{"vllm list", VLLM, Config{}, "GET", "/v1/models", nil, "", 200,
			map[string]any{"data.0.owned_by": "vllm", "data.0.max_model_len": 8192, "data.0.root": "meta-llama/Llama-3.1-8B-Instruct"}, nil},
		{"vllm unauthorized", VLLM, withKey, "GET", "/v1/models", bearer("nope"), "", 401,
			map[string]any{"error": "Unauthorized"}, nil},
		{"vllm unknown model", VLLM, Config{}, "POST", "/v1/chat/completions", nil, openaiChatBody, 404,
			map[string]any{"error.type": "NotFoundError", "error.code": 404, "error.param": "model",
				"error.message": "The model `gpt-4o-mini` does not exist."}, nil},
		{"vllm health without key", VLLM, withKey, "GET", "/health", nil, "", 200, nil, nil},
		{"nim bad key is 403", NIM, withKey, "GET", "/v1/models", bearer("nvapi-bad"), "", 403,
			map[string]any{"status": 403, "title": "Forbidden", "detail": "Authorization failed"}, nil},
		{"nim missing key", NIM, withKey, "GET", "/v1/models", nil, "", 401,
			map[string]any{"status": 401, "detail": "Header of type `authorization` was missing"}, nil},
		{"nim unknown model", NIM, Config{}, "POST", "/v1/chat/completions", nil, openaiChatBody, 404,
			map[string]any{"status": 404, "title": "Not Found"}, nil},
		{"nim ready", NIM, Config{}, "GET", "/v1/health/ready", nil, "", 200,
			map[string]any{"object": "health.response", "message": "Service is ready."}, nil},
	})
}

func TestAzureShapes(t *testing.T) {
	cfg := Config{APIKey: key, Models: []string{"chat-dep", "embed-dep"}}
	apiKey := map[string]string{"api-key": key}
	const chat = "/openai/deployments/chat-dep/chat/completions?api-version=2024-10-21"
	runShapeCases(t, []shapeCase{
		{"classic chat", Azure, cfg, "POST", chat, apiKey, `{"messages":[{"role":"user","content":"hi"}]}`, 200,
			map[string]any{"object": "chat.completion", "model": "chat-dep", "prompt_filter_results.0.prompt_index": 0,
				"choices.0.content_filter_results.hate.filtered": false}, nil},
		{"classic embeddings", Azure, cfg, "POST", "/openai/deployments/embed-dep/embeddings?api-version=2024-10-21",
			apiKey, `{"input":"x"}`, 200, map[string]any{"data.0.index": 0}, nil},
		{"missing api-version", Azure, cfg, "POST", "/openai/deployments/chat-dep/chat/completions", apiKey, `{}`, 404,
			map[string]any{"error.code": "404", "error.message": "Resource not found"}, nil},
		{"bad key", Azure, cfg, "POST", chat, map[string]string{"api-key": "bad"}, `{}`, 401,
			map[string]any{"error.code": "401", "error.message": azureInvalidKeyMsg}, []string{"error.type"}},
		{"bearer on classic", Azure, cfg, "POST", chat, bearer(key), `{}`, 401,
			map[string]any{"error.code": "401", "error.message": azureMissingKeyMsg}, nil},
		{"unknown deployment", Azure, cfg, "POST", "/openai/deployments/nope/chat/completions?api-version=2024-10-21",
			apiKey, `{"messages":[{}]}`, 404, map[string]any{"error.code": "DeploymentNotFound", "error.message": azureNoDeploymentMsg}, nil},
		{"v1 chat with bearer", Azure, cfg, "POST", "/openai/v1/chat/completions", bearer(key),
			`{"model":"chat-dep","messages":[{"role":"user","content":"hi"}]}`, 200,
			map[string]any{"model": "chat-dep", "choices.0.finish_reason": "stop"}, nil},
		{"v1 models", Azure, cfg, "GET", "/openai/v1/models", apiKey, "", 200,
			map[string]any{"object": "list", "data.1.id": "embed-dep"}, nil},
	})
}

func TestOpenAIEmbeddingsBase64(t *testing.T) {
	f := Start(t, OpenAI, Config{EmbeddingDims: 3})
	_, _, body := call(t, "POST", f.URL+"/v1/embeddings", nil, `{"model":"gpt-4o-mini","input":"x","encoding_format":"base64"}`)
	raw, err := base64.StdEncoding.DecodeString(at(object(t, body), "data.0.embedding").(string))
	if err != nil || len(raw) != 12 {
		t.Fatalf("embedding is not 3 base64 float32s: %v, %d bytes", err, len(raw))
	}
}

// chunkDoc is the subset of a chat.completion.chunk the stream tests read.
type chunkDoc struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Object  string `json:"object"`
	Choices []struct {
		Index int `json:"index"`
		Delta *struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		Prompt     int `json:"prompt_tokens"`
		Completion int `json:"completion_tokens"`
		Total      int `json:"total_tokens"`
	} `json:"usage"`
}

// streamSummary is what an OpenAI client reassembles from a stream.
type streamSummary struct {
	text   string
	args   map[int]string
	names  map[int]string
	finish string
	usage  [3]int
	chunks int
}

func summarizeOpenAI(t *testing.T, events []sseEvent) streamSummary {
	t.Helper()
	if len(events) == 0 || events[len(events)-1].Data != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %+v", events)
	}
	s := streamSummary{args: map[int]string{}, names: map[int]string{}}
	var id string
	for _, ev := range events[:len(events)-1] {
		var c chunkDoc
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			t.Fatalf("chunk %q: %v", ev.Data, err)
		}
		if c.ID == "" { // Azure's leading prompt-filter chunk
			continue
		}
		if id != "" && c.ID != id {
			t.Fatalf("chunk id changed from %s to %s", id, c.ID)
		}
		id, s.chunks = c.ID, s.chunks+1
		if c.Usage != nil {
			if len(c.Choices) != 0 {
				t.Fatalf("usage chunk has choices: %s", ev.Data)
			}
			s.usage = [3]int{c.Usage.Prompt, c.Usage.Completion, c.Usage.Total}
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
			if ch.Delta == nil {
				continue
			}
			if ch.Delta.Content != nil {
				s.text += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				s.args[tc.Index] += tc.Function.Arguments
				s.names[tc.Index] += tc.Function.Name
			}
		}
	}
	return s
}

func TestOpenAIFamilyStreams(t *testing.T) {
	tools := []ToolCall{{"get_weather", `{"city":"Oslo"}`}, {"get_time", `{"tz":"CET"}`}}
	cases := []struct {
		name   string
		proto  Protocol
		path   string
		header map[string]string
		body   string
	}{
		{"openai", OpenAI, "/v1/chat/completions", nil, openaiStreamBody},
		{"vllm", VLLM, "/v1/chat/completions", nil, strings.Replace(openaiStreamBody, "gpt-4o-mini", "meta-llama/Llama-3.1-8B-Instruct", 1)},
		{"azure classic", Azure, "/openai/deployments/gpt-4o-deployment/chat/completions?api-version=2024-10-21", nil, openaiStreamBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, tc.proto, Config{Text: "Let me check.", Chunks: 3, ToolCalls: tools,
				Usage: Usage{Prompt: 40, Completion: 25}})
			status, h, body := call(t, "POST", f.URL+tc.path, tc.header, tc.body)
			if status != 200 || h.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, content type %q", status, h.Get("Content-Type"))
			}
			s := summarizeOpenAI(t, parseSSE(t, body, false))
			if s.text != "Let me check." || s.finish != "tool_calls" || s.usage != [3]int{40, 25, 65} {
				t.Errorf("text %q finish %q usage %v", s.text, s.finish, s.usage)
			}
			for i, tool := range tools {
				if s.names[i] != tool.Name || s.args[i] != tool.Arguments {
					t.Errorf("tool %d = %s(%s), want %s(%s)", i, s.names[i], s.args[i], tool.Name, tool.Arguments)
				}
			}
			if st := f.Stats(); st.Completed != 1 || st.Reported.Total() != 65 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestOpenAIStreamWithoutIncludeUsageHasNoUsage(t *testing.T) {
	f := Start(t, OpenAI, Config{})
	_, _, body := call(t, "POST", f.URL+"/v1/chat/completions", nil,
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if strings.Contains(string(body), `"usage"`) {
		t.Fatalf("usage sent without include_usage: %s", body)
	}
	if s := summarizeOpenAI(t, parseSSE(t, body, false)); s.text != "tok1 tok2 tok3 tok4 " {
		t.Fatalf("text %q", s.text)
	}
}

func TestOpenAICompletionsStream(t *testing.T) {
	f := Start(t, OpenAI, Config{Chunks: 2})
	_, _, body := call(t, "POST", f.URL+"/v1/completions", nil,
		`{"model":"gpt-4o-mini","prompt":"x","stream":true,"stream_options":{"include_usage":true}}`)
	events := parseSSE(t, body, false)
	if len(events) != 5 || events[4].Data != "[DONE]" {
		t.Fatalf("want 2 text + finish + usage + [DONE], got %+v", events)
	}
	if obj := object(t, []byte(events[0].Data)); obj["object"] != "text_completion" || at(obj, "choices.0.text") != "tok1 " {
		t.Fatalf("first chunk %v", obj)
	}
}

// BenchmarkFakeOverhead measures the fake's own cost per request, so load
// tests can tell it apart from the gateway's overhead.
func BenchmarkFakeOverhead(b *testing.B) {
	cases := []struct {
		name string
		body string
	}{{"chat", openaiChatBody}, {"stream-4-chunks", openaiStreamBody}}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			f := Start(b, OpenAI, Config{KeepRequests: 1})
			for b.Loop() {
				if status, _, _ := call(b, "POST", f.URL+"/v1/chat/completions", nil, tc.body); status != 200 {
					b.Fatalf("status %d", status)
				}
			}
		})
	}
}
