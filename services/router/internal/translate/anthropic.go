package translate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// AnthropicConfig configures the Anthropic Messages translator.
type AnthropicConfig struct {
	// DefaultMaxTokens fills the required max_tokens when the client sent
	// neither max_completion_tokens nor max_tokens (4096 when zero).
	DefaultMaxTokens int64
}

// NewAnthropic returns the OpenAI ⇄ Anthropic Messages translator.
func NewAnthropic(cfg AnthropicConfig) Chat {
	if cfg.DefaultMaxTokens <= 0 {
		cfg.DefaultMaxTokens = 4096
	}
	return &anthropicChat{cfg: cfg}
}

type anthropicChat struct{ cfg AnthropicConfig }

// jsonToolName is the synthetic tool that carries response_format answers
// (Anthropic has no JSON mode: the forced tool's input is the JSON answer).
const jsonToolName = "json_response"

type anthropicRequest struct {
	Model         string               `json:"model"`
	MaxTokens     int64                `json:"max_tokens"`
	System        []anthropicBlock     `json:"system,omitempty"`
	Messages      []anthropicMessage   `json:"messages"`
	StopSequences []string             `json:"stop_sequences,omitempty"`
	Temperature   *float64             `json:"temperature,omitempty"`
	TopP          *float64             `json:"top_p,omitempty"`
	TopK          *int64               `json:"top_k,omitempty"`
	Stream        bool                 `json:"stream,omitempty"`
	Tools         []anthropicTool      `json:"tools,omitempty"`
	ToolChoice    *anthropicToolChoice `json:"tool_choice,omitempty"`
	Metadata      *anthropicMetadata   `json:"metadata,omitempty"`
}

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content []anthropicBlock `json:"content"`
}

type anthropicBlock struct {
	Type      string           `json:"type"`
	Text      string           `json:"text,omitempty"`
	Source    *anthropicSource `json:"source,omitempty"`
	ID        string           `json:"id,omitempty"`
	Name      string           `json:"name,omitempty"`
	Input     json.RawMessage  `json:"input,omitempty"`
	ToolUseID string           `json:"tool_use_id,omitempty"`
	Content   string           `json:"content,omitempty"`
}

type anthropicSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type anthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type anthropicToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

type anthropicMetadata struct {
	UserID string `json:"user_id"`
}

func (a *anthropicChat) Request(req *ChatRequest, t Target) (UpstreamRequest, error) {
	if req.N != nil && *req.N != 1 {
		return UpstreamRequest{}, unsupported("n", "Anthropic models return exactly one choice: 'n' must be 1.")
	}
	out := anthropicRequest{Model: t.Model, Stream: req.Stream, StopSequences: nonBlank(req.Stop), TopK: req.TopK}
	if out.Model == "" {
		out.Model = req.Model
	}
	out.MaxTokens = a.cfg.DefaultMaxTokens
	if m := req.maxOutputTokens(); m != nil {
		out.MaxTokens = *m
	}
	out.Temperature, out.TopP = anthropicSampling(req.Temperature, req.TopP)
	if err := anthropicMessages(req.Messages, &out); err != nil {
		return UpstreamRequest{}, err
	}
	anthropicTools(req, &out)
	if req.User != "" && !looksPersonal(req.User) {
		out.Metadata = &anthropicMetadata{UserID: req.User}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return UpstreamRequest{}, AsError(err)
	}
	return UpstreamRequest{Method: http.MethodPost, Path: "/v1/messages", Body: body}, nil
}

// anthropicSampling caps temperature at Anthropic's 1.0 (as Anthropic's own
// compatibility layer does) and drops top_p when both are set, which newer
// Claude models reject (rule 3).
func anthropicSampling(temperature, topP *float64) (*float64, *float64) {
	if temperature == nil {
		return nil, topP
	}
	t := min(*temperature, 1)
	return &t, nil
}

func nonBlank(stop Stop) []string {
	var out []string
	for _, s := range stop {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// looksPersonal spots e-mail addresses and phone numbers, which Anthropic's
// metadata.user_id must not carry.
func looksPersonal(user string) bool {
	digits := 0
	for _, r := range user {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return strings.Contains(user, "@") || digits >= 7
}

// anthropicMessages hoists system/developer text into system and merges
// consecutive same-role turns (so N tool results become one user turn).
func anthropicMessages(msgs []Message, out *anthropicRequest) *Error {
	for i, m := range msgs {
		if m.Role == "system" || m.Role == "developer" {
			if text := m.Content.text(); strings.TrimSpace(text) != "" {
				out.System = append(out.System, anthropicBlock{Type: "text", Text: text})
			}
			continue
		}
		role, blocks, err := anthropicTurn(i, m)
		if err != nil {
			return err
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, anthropicMessage{Role: role, Content: blocks})
	}
	if len(out.Messages) == 0 {
		return invalidRequest("messages", "'messages' must contain at least one non-system message with content.")
	}
	trimPrefill(out.Messages)
	return nil
}

func anthropicTurn(i int, m Message) (string, []anthropicBlock, *Error) {
	switch m.Role {
	case "tool":
		return "user", []anthropicBlock{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Content.text()}}, nil
	case "assistant":
		blocks, err := anthropicAssistant(i, m)
		return "assistant", blocks, err
	}
	blocks, err := anthropicUserContent(i, m.Content)
	return "user", blocks, err
}

func anthropicAssistant(i int, m Message) ([]anthropicBlock, *Error) {
	var blocks []anthropicBlock
	if text := m.Content.text() + m.Refusal; strings.TrimSpace(text) != "" {
		blocks = append(blocks, anthropicBlock{Type: "text", Text: text})
	}
	for j, tc := range m.ToolCalls {
		input, err := toolArguments(tc.Function.Arguments)
		if err != nil {
			return nil, invalidRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, j),
				"Tool call arguments must be a JSON object.")
		}
		blocks = append(blocks, anthropicBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

// toolArguments parses an OpenAI arguments string into a JSON object; an
// empty string means a call without arguments.
func toolArguments(args string) (json.RawMessage, error) {
	trimmed := strings.TrimSpace(args)
	if trimmed == "" {
		return json.RawMessage("{}"), nil
	}
	if trimmed[0] != '{' || !json.Valid([]byte(trimmed)) {
		return nil, fmt.Errorf("arguments are not a JSON object")
	}
	return json.RawMessage(trimmed), nil
}

func anthropicUserContent(i int, c Content) ([]anthropicBlock, *Error) {
	if !c.IsParts {
		if strings.TrimSpace(c.Text) == "" {
			return nil, nil
		}
		return []anthropicBlock{{Type: "text", Text: c.Text}}, nil
	}
	var blocks []anthropicBlock
	for j, p := range c.Parts {
		param := fmt.Sprintf("messages[%d].content[%d]", i, j)
		block, err := anthropicPart(param, p)
		if err != nil {
			return nil, err
		}
		if block != nil {
			blocks = append(blocks, *block)
		}
	}
	return blocks, nil
}

var anthropicImageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

func anthropicPart(param string, p ContentPart) (*anthropicBlock, *Error) {
	switch p.Type {
	case "text", "refusal":
		if strings.TrimSpace(p.Text+p.Refusal) == "" {
			return nil, nil
		}
		return &anthropicBlock{Type: "text", Text: p.Text + p.Refusal}, nil
	case "image_url":
		src, err := imageSource(param, p.ImageURL.URL)
		if err != nil {
			return nil, err
		}
		if src.Type == "base64" && !anthropicImageTypes[src.MediaType] {
			return nil, invalidRequest(param, "Anthropic accepts only JPEG, PNG, GIF and WebP images, not %q.", src.MediaType)
		}
		return &anthropicBlock{Type: "image", Source: src}, nil
	case "file":
		src, err := fileSource(param, p.File)
		if err != nil {
			return nil, err
		}
		return &anthropicBlock{Type: "document", Source: src}, nil
	}
	return nil, unsupported(param, "Content parts of type %q are not supported by Anthropic models.", p.Type)
}

// trimPrefill strips trailing whitespace from a final assistant message,
// which Anthropic rejects when used as a prefill.
func trimPrefill(msgs []anthropicMessage) {
	last := &msgs[len(msgs)-1]
	if last.Role != "assistant" {
		return
	}
	for i := len(last.Content) - 1; i >= 0; i-- {
		if b := &last.Content[i]; b.Type == "text" {
			b.Text = strings.TrimRightFunc(b.Text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' })
			return
		}
	}
}

// dataURI splits "data:<media type>[;params];base64,<data>".
func dataURI(uri string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(uri, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	params := strings.Split(meta, ";")
	if len(params) < 2 || params[len(params)-1] != "base64" || data == "" {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(params[0])), data, true
}

// imageSource maps an image_url value to an Anthropic source. The gateway
// never fetches URLs itself (that would be an SSRF surface): data: URIs are
// inlined, http(s) URLs are handed to the provider.
func imageSource(param, uri string) (*anthropicSource, *Error) {
	if mediaType, data, ok := dataURI(uri); ok {
		return &anthropicSource{Type: "base64", MediaType: mediaType, Data: data}, nil
	}
	if strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://") {
		return &anthropicSource{Type: "url", URL: uri}, nil
	}
	return nil, invalidRequest(param+".image_url.url", "Image URLs must be http(s) URLs or base64 data: URIs.")
}

// fileSource maps a file part (inline PDF or text) to a base64 source.
func fileSource(param string, f *FileRef) (*anthropicSource, *Error) {
	if f == nil || f.FileData == "" {
		return nil, unsupported(param+".file", "Only inline file_data is supported for this provider; file_id uploads are not.")
	}
	mediaType, data, ok := dataURI(f.FileData)
	if !ok {
		mediaType, data = "application/pdf", f.FileData
	}
	if mediaType != "application/pdf" && mediaType != "text/plain" {
		return nil, invalidRequest(param+".file", "Files must be PDF or plain text, not %q.", mediaType)
	}
	return &anthropicSource{Type: "base64", MediaType: mediaType, Data: data}, nil
}
