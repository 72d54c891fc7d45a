package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ChatRequest is a decoded OpenAI /v1/chat/completions body. Raw keeps the
// original bytes so OpenAI-family upstreams receive them unchanged. Pointer
// fields distinguish "absent" from a meaningful zero (temperature 0).
type ChatRequest struct {
	Raw                 []byte          `json:"-"`
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *StreamOptions  `json:"stream_options"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int64          `json:"top_k"`
	N                   *int64          `json:"n"`
	Stop                Stop            `json:"stop"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	Seed                *int64          `json:"seed"`
	ResponseFormat      *ResponseFormat `json:"response_format"`
	Tools               []Tool          `json:"tools"`
	ToolChoice          *ToolChoice     `json:"tool_choice"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls"`
	User                string          `json:"user"`
}

// StreamOptions is the stream_options object.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one entry of messages[].
type Message struct {
	Role       string     `json:"role"`
	Content    Content    `json:"content"`
	Name       string     `json:"name"`
	Refusal    string     `json:"refusal"`
	ToolCalls  []ToolCall `json:"tool_calls"`
	ToolCallID string     `json:"tool_call_id"`
}

// Content is the string | array-of-parts | null union of message content.
type Content struct {
	Text  string
	Parts []ContentPart
	// IsParts is true when the content was an array (Text is then unused).
	IsParts bool
}

// ContentPart is one typed part of array content.
type ContentPart struct {
	Type       string      `json:"type"`
	Text       string      `json:"text"`
	Refusal    string      `json:"refusal"`
	ImageURL   *ImageURL   `json:"image_url"`
	InputAudio *InputAudio `json:"input_audio"`
	File       *FileRef    `json:"file"`
}

// ImageURL is an image_url part: an https URL or a data: URI.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail"`
}

// InputAudio is an input_audio part.
type InputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// FileRef is a file part: an uploaded file id or inline base64 data.
type FileRef struct {
	FileID   string `json:"file_id"`
	FileData string `json:"file_data"`
	Filename string `json:"filename"`
}

// ToolCall is an assistant tool call; Arguments is a JSON-encoded string.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Tool is one entry of tools[].
type Tool struct {
	Type     string       `json:"type"`
	Function *FunctionDef `json:"function"`
}

// FunctionDef declares a function tool; Parameters is a JSON Schema.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// ResponseFormat is response_format: text, json_object or json_schema.
type ResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	} `json:"json_schema"`
}

// ToolChoice is the "none"|"auto"|"required"|object union. Mode is set for
// the string forms and for allowed_tools; Function names a forced function.
type ToolChoice struct {
	Mode     string
	Function string
	Allowed  []string
}

// Stop is the string | []string | null union.
type Stop []string

// ForwardsRaw reports whether protocol's chat translator forwards the
// client's bytes (OpenAI family, Azure) and so needs only RawChatRequest,
// not the full decode of DecodeChatRequest.
func ForwardsRaw(protocol string) bool {
	return protocol == ProtocolOpenAI || protocol == ProtocolAzure
}

// RawChatRequest wraps a body that the caller has already validated (the
// edge's edgejson scan) for a translator that ForwardsRaw: only Raw, Model,
// Stream and the include_usage flag are set. Other translators need
// DecodeChatRequest.
func RawChatRequest(body []byte, model string, stream, includeUsage bool) *ChatRequest {
	req := &ChatRequest{Raw: body, Model: model, Stream: stream}
	if includeUsage {
		req.StreamOptions = &StreamOptions{IncludeUsage: true}
	}
	return req
}

// DecodeChatRequest parses and validates an edge chat body. Every failure is
// an *Error with HTTP 400 and an OpenAI-style param.
func DecodeChatRequest(body []byte) (*ChatRequest, error) {
	req := &ChatRequest{Raw: body}
	if err := json.Unmarshal(body, req); err != nil {
		return nil, decodeError(err)
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	return req, nil
}

func decodeError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return invalidRequest(typeErr.Field, "Invalid type for '%s': expected %s.", typeErr.Field, typeErr.Type)
	}
	var contentErr *unionError
	if errors.As(err, &contentErr) {
		return invalidRequest("", "%s", contentErr.msg)
	}
	return invalidRequest("", "We could not parse the JSON body of your request: %v", err)
}

// IncludeUsage reports whether the client asked for the final usage chunk.
func (r *ChatRequest) IncludeUsage() bool {
	return r.Stream && r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

// maxOutputTokens prefers max_completion_tokens over the deprecated max_tokens.
func (r *ChatRequest) maxOutputTokens() *int64 {
	if r.MaxCompletionTokens != nil {
		return r.MaxCompletionTokens
	}
	return r.MaxTokens
}

type unionError struct{ msg string }

func (e *unionError) Error() string { return e.msg }

// UnmarshalJSON accepts a string, an array of parts or null.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*c = Content{}
		return nil
	case b[0] == '"':
		*c = Content{}
		return json.Unmarshal(b, &c.Text)
	case b[0] == '[':
		*c = Content{IsParts: true}
		return json.Unmarshal(b, &c.Parts)
	}
	return &unionError{"Invalid 'content': expected a string, an array of content parts or null."}
}

// text joins the text (and refusal) parts of the content.
func (c Content) text() string {
	if !c.IsParts {
		return c.Text
	}
	var sb strings.Builder
	for _, p := range c.Parts {
		sb.WriteString(p.Text)
		sb.WriteString(p.Refusal)
	}
	return sb.String()
}

// UnmarshalJSON accepts a string, an array of strings or null.
func (s *Stop) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = nil
		return nil
	case b[0] == '"':
		var one string
		err := json.Unmarshal(b, &one)
		*s = Stop{one}
		return err
	case b[0] == '[':
		var many []string
		err := json.Unmarshal(b, &many)
		*s = many
		return err
	}
	return &unionError{"Invalid 'stop': expected a string, an array of strings or null."}
}

// UnmarshalJSON accepts the string modes and the function/allowed_tools objects.
func (tc *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*tc = ToolChoice{}
		return json.Unmarshal(b, &tc.Mode)
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
		AllowedTools struct {
			Mode  string `json:"mode"`
			Tools []struct {
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			} `json:"tools"`
		} `json:"allowed_tools"`
	}
	if len(b) == 0 || b[0] != '{' {
		return &unionError{"Invalid 'tool_choice': expected a string or an object."}
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*tc = ToolChoice{Function: obj.Function.Name}
	switch obj.Type {
	case "function":
	case "allowed_tools":
		tc.Mode = obj.AllowedTools.Mode
		for _, t := range obj.AllowedTools.Tools {
			tc.Allowed = append(tc.Allowed, t.Function.Name)
		}
	default:
		return &unionError{fmt.Sprintf("Unsupported 'tool_choice' type %q.", obj.Type)}
	}
	return nil
}
