package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard/switchyard/tests/fakes"
)

// Plain chat to every provider: the SDK gets OpenAI's shape, the text the
// provider produced and its usage in OpenAI semantics (cached tokens in
// prompt_tokens, reasoning in completion_tokens).
func TestEdgeChatEveryProvider(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{Text: "Hello from upstream",
		Usage: fakes.Usage{Prompt: 20, Completion: 7, Cached: 5, Reasoning: 2}}, nil)
	for _, k := range upstreamKinds {
		t.Run(k.name, func(t *testing.T) {
			c := g.client("/v1")
			res, err := c.Chat.Completions.New(context.Background(), userChat(k.model, "hi"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Object != "chat.completion" || len(res.Choices) != 1 || res.Choices[0].Message.Content != "Hello from upstream" ||
				res.Choices[0].FinishReason != "stop" {
				t.Fatalf("response %+v", res)
			}
			u := res.Usage
			if u.PromptTokens != 20 || u.CompletionTokens != 7 || u.TotalTokens != 27 {
				t.Fatalf("usage %+v", u)
			}
			if k.fake == fakes.Anthropic || k.fake == fakes.Gemini {
				if u.PromptTokensDetails.CachedTokens != 5 {
					t.Fatalf("cached tokens %d", u.PromptTokensDetails.CachedTokens)
				}
			}
			if n := g.fakes[k.name].Sightings("consumer-key-CANARY"); n != 0 {
				t.Fatalf("consumer key reached the %s upstream %d times", k.name, n)
			}
		})
	}
}

// Streaming with parallel tool calls: tool-call indexes count calls (0, 1),
// the first delta of each carries id and name, arguments arrive in pieces
// that concatenate to the provider's JSON, the stream ends with
// finish_reason tool_calls, one usage chunk and [DONE].
func TestEdgeStreamingToolCalls(t *testing.T) {
	calls := []fakes.ToolCall{{Name: "get_weather", Arguments: `{"city":"Oslo"}`}, {Name: "get_time", Arguments: `{"tz":"Europe/Oslo"}`}}
	g := startEdgeGateway(t, fakes.Config{ToolCalls: calls, ToolArgChunks: 3, Usage: fakes.Usage{Prompt: 30, Completion: 12}}, nil)
	for _, k := range upstreamKinds {
		t.Run(k.name, func(t *testing.T) {
			params := userChat(k.model, "weather and time in Oslo?")
			params.Tools = []openai.ChatCompletionToolUnionParam{weatherTool("get_weather", "city"), weatherTool("get_time", "tz")}
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			c := g.client("/v1")
			stream := c.Chat.Completions.NewStreaming(context.Background(), params)
			var acc openai.ChatCompletionAccumulator
			args := map[int64]string{}
			firstDelta := map[int64]openai.ChatCompletionChunkChoiceDeltaToolCall{}
			var usageChunks int
			for stream.Next() {
				chunk := stream.Current()
				acc.AddChunk(chunk)
				if len(chunk.Choices) == 0 {
					usageChunks++
					continue
				}
				for _, tc := range chunk.Choices[0].Delta.ToolCalls {
					if _, seen := firstDelta[tc.Index]; !seen {
						firstDelta[tc.Index] = tc
					}
					args[tc.Index] += tc.Function.Arguments
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(args) != 2 || usageChunks != 1 {
				t.Fatalf("tool-call indexes %v, usage chunks %d", args, usageChunks)
			}
			for i, want := range calls {
				first := firstDelta[int64(i)]
				if first.ID == "" || first.Function.Name != want.Name || !jsonEqual(args[int64(i)], want.Arguments) {
					t.Fatalf("tool call %d: first delta %+v, arguments %q", i, first, args[int64(i)])
				}
			}
			if acc.Choices[0].FinishReason != "tool_calls" || acc.Usage.PromptTokens != 30 || acc.Usage.CompletionTokens != 12 {
				t.Fatalf("accumulated finish %q usage %+v", acc.Choices[0].FinishReason, acc.Usage)
			}
		})
	}
}

func weatherTool(name, param string) openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name: name,
		Parameters: shared.FunctionParameters{"type": "object",
			"properties": map[string]any{param: map[string]any{"type": "string"}}, "required": []string{param}},
	})
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// JSON mode reaches every provider in its own terms (OpenAI family: the
// byte-identical response_format; Gemini: responseMimeType; Anthropic: an
// instruction) and the JSON answer comes back as the message content.
func TestEdgeJSONMode(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{Text: `{"ok":true}`}, nil)
	for _, k := range upstreamKinds {
		t.Run(k.name, func(t *testing.T) {
			params := userChat(k.model, "Reply with a JSON object.")
			params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
			c := g.client("/v1")
			res, err := c.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(res.Choices[0].Message.Content, `{"ok":true}`) {
				t.Fatalf("content %q", res.Choices[0].Message.Content)
			}
			last, _ := g.fakes[k.name].LastRequest()
			body := string(last.Body)
			switch k.fake {
			case fakes.Gemini:
				if !strings.Contains(body, `"responseMimeType":"application/json"`) {
					t.Fatalf("gemini request without JSON mime type: %s", body)
				}
			case fakes.Anthropic:
				if !strings.Contains(strings.ToLower(body), "json") {
					t.Fatalf("anthropic request does not ask for JSON: %s", body)
				}
			default:
				if !strings.Contains(body, `"response_format":{"type":"json_object"}`) {
					t.Fatalf("response_format not passed through: %s", body)
				}
			}
		})
	}
}

// What a provider cannot do is refused clearly, before any upstream call:
// n>1 on Anthropic, /v1/completions on Anthropic and Gemini.
func TestEdgeRefusesWhatProvidersCannotDo(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{}, nil)
	c := g.client("/v1")
	params := userChat("claude-sonnet-4-5", "hi")
	params.N = openai.Int(2)
	_, err := c.Chat.Completions.New(context.Background(), params)
	assertAPIError(t, err, 400, "n")
	for _, k := range []string{"anthropic", "gemini"} {
		model := map[string]string{"anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}[k]
		_, err := c.Completions.New(context.Background(), openai.CompletionNewParams{
			Model:  openai.CompletionNewParamsModel(model),
			Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")},
		})
		apiErr := assertAPIError(t, err, 400, "model")
		if !strings.Contains(apiErr.Message, "/v1/chat/completions") {
			t.Fatalf("%s: the refusal does not point to chat completions: %v", k, err)
		}
	}
	for _, k := range []string{"anthropic", "gemini"} {
		for _, r := range g.fakes[k].Requests() {
			if r.Method == "POST" { // health probes (GET) may come and go
				t.Fatalf("%s upstream got %s %s", k, r.Method, r.Path)
			}
		}
	}
	// The OpenAI family does serve /v1/completions.
	res, err := c.Completions.New(context.Background(), openai.CompletionNewParams{
		Model: "gpt-4o-mini", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")},
	})
	if err != nil || len(res.Choices) == 0 {
		t.Fatalf("openai completions: %v %+v", err, res)
	}
}

// assertAPIError checks that the SDK surfaced an *openai.Error with the
// status (and, when given, the param).
func assertAPIError(t *testing.T, err error, status int, param string) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *openai.Error %d, got %v", status, err)
	}
	if apiErr.StatusCode != status || (param != "" && apiErr.Param != param) {
		t.Fatalf("status %d param %q (%s), want %d %q", apiErr.StatusCode, apiErr.Param, apiErr.Message, status, param)
	}
	return apiErr
}
