package fakes

import (
	"strings"
	"testing"
)

const geminiBody = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`

func TestGeminiShapes(t *testing.T) {
	withKey := Config{APIKey: key}
	h := map[string]string{"x-goog-api-key": key}
	const gen = "/v1beta/models/gemini-2.5-flash:generateContent"
	runShapeCases(t, []shapeCase{
		{"model info", Gemini, withKey, "GET", "/v1beta/models/gemini-2.5-flash", h, "", 200,
			map[string]any{"name": "models/gemini-2.5-flash", "supportedGenerationMethods.0": "generateContent"}, nil},
		{"list models", Gemini, withKey, "GET", "/v1beta/models", h, "", 200,
			map[string]any{"models.0.name": "models/gemini-2.5-flash"}, nil},
		{"key in query", Gemini, withKey, "GET", "/v1beta/models/gemini-2.5-flash?key=" + key, nil, "", 200,
			map[string]any{"name": "models/gemini-2.5-flash"}, nil},
		{"bad key is 400", Gemini, withKey, "GET", "/v1beta/models/gemini-2.5-flash", map[string]string{"x-goog-api-key": "bad"}, "", 400,
			map[string]any{"error.code": 400, "error.status": "INVALID_ARGUMENT", "error.details.0.reason": "API_KEY_INVALID",
				"error.message": "API key not valid. Please pass a valid API key."}, nil},
		{"no key is 403", Gemini, withKey, "POST", gen, nil, geminiBody, 403,
			map[string]any{"error.code": 403, "error.status": "PERMISSION_DENIED"}, nil},
		{"unknown model", Gemini, withKey, "POST", "/v1beta/models/gemini-pro:generateContent", h, geminiBody, 404,
			map[string]any{"error.status": "NOT_FOUND", "error.message": "models/gemini-pro is not found for API version " +
				"v1beta, or is not supported for generateContent. Call ListModels to see the list of available models " +
				"and their supported methods."}, nil},
		{"generate", Gemini, Config{Text: "It is 4°C.", Thinking: "t", Usage: Usage{Prompt: 61, Completion: 129, Reasoning: 120, Cached: 8}},
			"POST", gen, nil, geminiBody, 200,
			map[string]any{"candidates.0.content.role": "model", "candidates.0.content.parts.0.thought": true,
				"candidates.0.content.parts.1.text": "It is 4°C.", "candidates.0.finishReason": "STOP",
				"usageMetadata.promptTokenCount": 61, "usageMetadata.candidatesTokenCount": 9,
				"usageMetadata.thoughtsTokenCount": 120, "usageMetadata.totalTokenCount": 190,
				"usageMetadata.cachedContentTokenCount": 8, "modelVersion": "gemini-2.5-flash"}, nil},
		{"function call", Gemini, Config{ToolCalls: []ToolCall{{"get_weather", `{"city":"Oslo"}`}}}, "POST", gen, nil, geminiBody, 200,
			map[string]any{"candidates.0.content.parts.0.functionCall.name": "get_weather",
				"candidates.0.content.parts.0.functionCall.args.city": "Oslo", "candidates.0.finishReason": "STOP"}, nil},
		{"empty parts", Gemini, Config{}, "POST", gen, nil, `{"contents":[{"role":"user","parts":[]}]}`, 400,
			map[string]any{"error.status": "INVALID_ARGUMENT",
				"error.message": "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"}, nil},
		{"part without data", Gemini, Config{}, "POST", gen, nil, `{"contents":[{"parts":[{"thought":true}]}]}`, 400,
			map[string]any{"error.status": "INVALID_ARGUMENT"}, nil},
		{"bad role", Gemini, Config{}, "POST", gen, nil, `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, 400,
			map[string]any{"error.message": "Please use a valid role: user, model."}, nil},
		{"function response count", Gemini, Config{}, "POST", gen, nil, `{"contents":[{"role":"user","parts":[{"text":"x"}]},` +
			`{"role":"model","parts":[{"functionCall":{"name":"a"}},{"functionCall":{"name":"b"}}]},` +
			`{"role":"user","parts":[{"functionResponse":{"name":"a","response":{}}}]}]}`, 400,
			map[string]any{"error.status": "INVALID_ARGUMENT"}, nil},
		{"unsupported schema keyword", Gemini, Config{}, "POST", gen, nil, `{"contents":[{"parts":[{"text":"x"}]}],` +
			`"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":` +
			`{"a":{"type":"string","additionalProperties":false}}}}]}]}`, 400,
			map[string]any{"error.message": `Invalid JSON payload received. Unknown name "additionalProperties" at ` +
				`'tools[0].function_declarations[0].parameters': Cannot find field.`}, nil},
		{"embed", Gemini, Config{Models: []string{"gemini-embedding-001"}, EmbeddingDims: 4}, "POST",
			"/v1beta/models/gemini-embedding-001:embedContent", nil, `{"content":{"parts":[{"text":"x"}]}}`, 200,
			map[string]any{"embedding.values.3": 0.2}, nil},
		{"batch embed", Gemini, Config{Models: []string{"gemini-embedding-001"}}, "POST",
			"/v1beta/models/gemini-embedding-001:batchEmbedContents", nil,
			`{"requests":[{"content":{"parts":[{"text":"x"}]}},{"content":{"parts":[{"text":"y"}]}}]}`, 200,
			map[string]any{"embeddings.1.values.0": 1.0}, nil},
		{"count tokens", Gemini, Config{}, "POST", "/v1beta/models/gemini-2.5-flash:countTokens", nil, geminiBody, 200,
			map[string]any{"totalTokens": 12}, nil},
	})
}

func TestGeminiStream(t *testing.T) {
	cases := []struct {
		name       string
		usageChunk bool
	}{{"usage on last candidate chunk", false}, {"usage-only final chunk", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Start(t, Gemini, Config{Text: "abcdef", Chunks: 3, Thinking: "hm", GeminiUsageChunk: tc.usageChunk,
				ToolCalls: []ToolCall{{"get_weather", `{"city":"Oslo"}`}}, Usage: Usage{Prompt: 10, Completion: 30, Reasoning: 6}})
			status, _, body := call(t, "POST", f.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", nil, geminiBody)
			if status != 200 || !strings.Contains(string(body), "\r\n\r\n") || strings.Contains(string(body), "[DONE]") {
				t.Fatalf("status %d, want CRLF-framed SSE without [DONE]: %q", status, body)
			}
			text, calls, finish, last := "", 0, "", map[string]any{}
			prevTotal := 0
			for _, ev := range parseSSE(t, body, false) {
				m := object(t, []byte(ev.Data))
				parts, _ := dig(m, "candidates", 0, "content", "parts").([]any) // nil on a usage-only chunk
				for _, p := range parts {
					if dig(p, "thought") == nil {
						text += str(dig(p, "text"))
					}
					if dig(p, "functionCall") != nil {
						calls++
					}
				}
				finish += str(at(m, "candidates.0.finishReason"))
				total := num(at(m, "usageMetadata.totalTokenCount"))
				if total < prevTotal {
					t.Fatalf("usage is not cumulative: %d after %d", total, prevTotal)
				}
				prevTotal, last = total, m
			}
			if text != "abcdef" || calls != 1 || finish != "STOP" {
				t.Errorf("text %q calls %d finish %q", text, calls, finish)
			}
			u := last["usageMetadata"]
			if num(dig(u, "candidatesTokenCount"))+num(dig(u, "thoughtsTokenCount")) != 30 || num(dig(u, "totalTokenCount")) != 40 {
				t.Errorf("final usage %v", u)
			}
		})
	}
}

func TestGeminiStreamErrorIsBareJSON(t *testing.T) {
	f := Start(t, Gemini, Config{Chunks: 4, ErrorAfter: 1, StreamError: KindRateLimit})
	_, _, body := call(t, "POST", f.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", nil, geminiBody)
	events := parseSSE(t, body, true)
	last := events[len(events)-1]
	if len(events) != 2 || last.Name != "bare" || at(object(t, []byte(last.Data)), "error.status") != "RESOURCE_EXHAUSTED" {
		t.Fatalf("events %+v", events)
	}
}
