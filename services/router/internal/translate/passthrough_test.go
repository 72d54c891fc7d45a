package translate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

func TestPassthroughKeepsBytesExceptModel(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"spacing and unknown fields kept",
			`{ "model" : "alias",  "messages":[{"role":"user","content":"Hi"}], "x_vendor": {"model":"inner"}, "n":1 }`,
			`{ "model" : "gpt-4o",  "messages":[{"role":"user","content":"Hi"}], "x_vendor": {"model":"inner"}, "n":1 }`},
		{"duplicate model keys all rewritten",
			`{"model":"a","messages":[{"role":"user","content":"x"}],"model":"b"}`,
			`{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"model":"gpt-4o"}`},
		{"escaped key and tricky strings",
			`{"messages":[{"role":"user","content":"\"model\":\"no\" }"}],"mod\u0065l":"a"}`,
			`{"messages":[{"role":"user","content":"\"model\":\"no\" }"}],"mod\u0065l":"gpt-4o"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeChatRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			up, err := NewOpenAI(OpenAIConfig{}).Request(req, Target{Model: "gpt-4o"})
			if err != nil {
				t.Fatal(err)
			}
			if string(up.Body) != tc.want {
				t.Fatalf("body\n got %s\nwant %s", up.Body, tc.want)
			}
		})
	}
}

func TestForceStreamUsage(t *testing.T) {
	tests := []struct {
		name, body, wantOptions string
		wantUsageChunk          bool
	}{
		{"absent options are added", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, `{"include_usage":true}`, false},
		{"existing options are extended", `{"model":"m","stream":true,"stream_options":{"include_obfuscation":false},"messages":[{"role":"user","content":"x"}]}`,
			`{"include_obfuscation":false,"include_usage":true}`, false},
		{"client already asked", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`,
			`{"include_usage":true}`, true},
	}
	upstream := "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\ndata: [DONE]\n\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chat := NewOpenAI(OpenAIConfig{ForceStreamUsage: true})
			req, err := DecodeChatRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			up, err := chat.Request(req, Target{})
			if err != nil {
				t.Fatal(err)
			}
			var sent struct {
				StreamOptions json.RawMessage `json:"stream_options"`
			}
			if err := json.Unmarshal(up.Body, &sent); err != nil || string(sent.StreamOptions) != tc.wantOptions {
				t.Fatalf("stream_options = %s (%v), want %s", sent.StreamOptions, err, tc.wantOptions)
			}
			out := string(runStream(chat.NewStream(req), []byte(upstream)))
			if got := strings.Contains(out, `"choices":[],"usage"`); got != tc.wantUsageChunk {
				t.Fatalf("usage chunk forwarded = %v, want %v:\n%s", got, tc.wantUsageChunk, out)
			}
			if !strings.Contains(out, `# usage: {"PromptTokens":5,"CompletionTokens":2,"TotalTokens":7`) {
				t.Fatalf("usage not recorded:\n%s", out)
			}
		})
	}
}

func TestAzureNeedsDeploymentAndVersion(t *testing.T) {
	req, _ := DecodeChatRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	_, err := NewAzure(OpenAIConfig{}).Request(req, Target{AzureDeployment: "d"})
	if e := AsError(err); e.Status != 500 || e.Code != "service_misconfigured" {
		t.Fatalf("err = %v, want 500 service_misconfigured", err)
	}
	up, err := NewAzure(OpenAIConfig{}).Request(req, Target{Model: "a b/c", AzureAPIVersion: "2024-10-21"})
	if err != nil || up.Path != "/openai/deployments/a%20b%2Fc/chat/completions" {
		t.Fatalf("path = %q, err %v", up.Path, err)
	}
}

func TestErrorJSONShape(t *testing.T) {
	e := invalidRequest("", "bad")
	var body map[string]map[string]any
	if err := json.Unmarshal(e.JSON(), &body); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"message", "type", "param", "code"} {
		if _, ok := body["error"][key]; !ok {
			t.Errorf("error.%s missing from %s", key, e.JSON())
		}
	}
	if body["error"]["param"] != nil || body["error"]["code"] != nil {
		t.Errorf("empty param/code must be null: %s", e.JSON())
	}
}

func TestRedactsKeysFromUpstreamMessages(t *testing.T) {
	for _, body := range []string{
		`{"error":{"message":"bad key sk-proj-abcdef123456 used","type":"invalid_request_error"}}`,
		`{"error":{"code":400,"message":"key AIzaSyA1234567890abcdefghijklmnop is wrong","status":"INVALID_ARGUMENT"}}`,
	} {
		e := NormalizeError(400, []byte(body))
		if bytes.Contains(e.JSON(), []byte("abcdef123456")) || bytes.Contains(e.JSON(), []byte("1234567890abcdefghij")) {
			t.Errorf("key leaked: %s", e.JSON())
		}
	}
}

func TestCompletionsAndEmbeddingsRefusals(t *testing.T) {
	for _, p := range []string{ProtocolAnthropic, ProtocolGemini} {
		if _, err := CompletionsForProtocol(p, OpenAIConfig{}); AsError(err).Status != 400 {
			t.Errorf("%s completions: err = %v, want 400", p, err)
		}
	}
	if _, err := EmbeddingsForProtocol(ProtocolAnthropic); AsError(err).Status != 400 {
		t.Errorf("anthropic embeddings: err = %v, want 400", err)
	}
	c, err := CompletionsForProtocol(ProtocolOpenAI, OpenAIConfig{})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Request([]byte(`{"model":"a","prompt":"x"}`), Target{Model: "b"})
	if err != nil || up.Path != "/v1/completions" || string(up.Body) != `{"model":"b","prompt":"x"}` {
		t.Fatalf("completions request = %+v, %v", up, err)
	}
	s := c.NewStream([]byte(`{"stream":true}`))
	_ = s.Event(sse.Event{Data: []byte(`{"choices":[{"text":"a","index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`)}, func([]byte) error { return nil })
	if u, err := s.Finish(func([]byte) error { return nil }); err != nil || u.TotalTokens != 2 {
		t.Fatalf("completions stream usage = %+v, %v", u, err)
	}
}
