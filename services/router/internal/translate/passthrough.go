package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/services/router/internal/edgejson"
	"github.com/switchyard/switchyard/services/router/internal/sse"
)

// OpenAIConfig configures the OpenAI-family and Azure translators.
type OpenAIConfig struct {
	// ForceStreamUsage adds stream_options.include_usage to streamed requests
	// so every stream can be metered; the usage chunk is then hidden from
	// clients that did not ask for it. This is the one change besides the
	// model name that the passthrough makes to the client's bytes.
	ForceStreamUsage bool
}

// openAIFamily forwards OpenAI-shaped bodies to OpenAI, vLLM, NIM, OpenRouter
// (azure=false) or to an Azure OpenAI deployment (azure=true).
type openAIFamily struct {
	cfg      OpenAIConfig
	azure    bool
	endpoint string // "chat/completions", "completions" or "embeddings"
}

// NewOpenAI returns the passthrough translator for OpenAI-family upstreams:
// the body goes out byte for byte except the model value.
func NewOpenAI(cfg OpenAIConfig) Chat {
	return &openAIChat{openAIFamily{cfg: cfg, endpoint: "chat/completions"}}
}

// NewAzure returns the translator for classic Azure OpenAI deployments:
// /openai/deployments/{deployment}/chat/completions?api-version=…, body
// unchanged (Azure selects the model by deployment and ignores "model").
func NewAzure(cfg OpenAIConfig) Chat {
	return &openAIChat{openAIFamily{cfg: cfg, azure: true, endpoint: "chat/completions"}}
}

type openAIChat struct{ f openAIFamily }

func (c *openAIChat) Request(req *ChatRequest, t Target) (UpstreamRequest, error) {
	return c.f.request(req.Raw, t, req.Stream && !req.IncludeUsage())
}

func (c *openAIChat) Response(_ *ChatRequest, status int, body []byte) ([]byte, Usage, error) {
	return c.f.response(status, body)
}

func (c *openAIChat) NewStream(req *ChatRequest) Stream {
	return c.f.newStream(req.IncludeUsage())
}

// request builds the upstream call; addUsage asks for stream usage the
// client did not request (when ForceStreamUsage is on).
func (f openAIFamily) request(raw []byte, t Target, addUsage bool) (UpstreamRequest, error) {
	var edits []memberEdit
	if !f.azure && t.Model != "" {
		model := quoteJSON(t.Model)
		edits = append(edits, memberEdit{key: "model", replace: func([]byte) []byte { return model }})
	}
	if addUsage && f.cfg.ForceStreamUsage {
		edits = append(edits, memberEdit{key: "stream_options", replace: withIncludeUsage,
			insert: []byte(`{"include_usage":true}`)})
	}
	body := raw
	if len(edits) > 0 {
		var err error
		if body, err = editMembers(raw, edits...); err != nil {
			return UpstreamRequest{}, invalidRequest("", "The request body must be a JSON object.")
		}
	}
	if !f.azure {
		return UpstreamRequest{Method: http.MethodPost, Path: "/v1/" + f.endpoint, Body: body}, nil
	}
	return f.azureRequest(body, t)
}

func (f openAIFamily) azureRequest(body []byte, t Target) (UpstreamRequest, error) {
	deployment := t.AzureDeployment
	if deployment == "" {
		deployment = t.Model
	}
	if deployment == "" || t.AzureAPIVersion == "" {
		return UpstreamRequest{}, &Error{Status: http.StatusInternalServerError, Type: "server_error",
			Code: "service_misconfigured", Message: "The Azure OpenAI service has no deployment or api-version configured."}
	}
	return UpstreamRequest{
		Method: http.MethodPost,
		Path:   "/openai/deployments/" + url.PathEscape(deployment) + "/" + f.endpoint,
		Query:  url.Values{"api-version": {t.AzureAPIVersion}},
		Body:   body,
	}, nil
}

// withIncludeUsage sets include_usage in an existing stream_options value.
func withIncludeUsage(old []byte) []byte {
	opts := map[string]json.RawMessage{}
	_ = json.Unmarshal(old, &opts)
	if opts == nil {
		opts = map[string]json.RawMessage{}
	}
	opts["include_usage"] = json.RawMessage("true")
	out, _ := json.Marshal(opts)
	return out
}

type openAIUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u *openAIUsage) toUsage() Usage {
	if u == nil {
		return Usage{}
	}
	out := Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
	if u.PromptTokensDetails != nil {
		out.CachedTokens = u.PromptTokensDetails.CachedTokens
	}
	if u.CompletionTokensDetails != nil {
		out.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	return out.normalize()
}

// response passes a successful body through unchanged and extracts usage;
// errors are normalised because "OpenAI-compatible" error bodies differ.
func (f openAIFamily) response(status int, body []byte) ([]byte, Usage, error) {
	if status >= 400 {
		return nil, Usage{}, NormalizeError(status, body)
	}
	if usage, errVal, ok := scanAnswer(body); ok {
		if len(errVal) > 0 && string(errVal) != "null" {
			return nil, Usage{}, streamError(body)
		}
		if fast, ok := scanOpenAIUsage(usage); ok {
			return body, fast, nil
		}
		var u *openAIUsage
		if len(usage) > 0 && string(usage) != "null" {
			u = new(openAIUsage)
			if err := json.Unmarshal(usage, u); err != nil {
				return nil, Usage{}, AsError(err)
			}
		}
		return body, u.toUsage(), nil
	}
	// Not provably valid to the fast scan (e.g. invalid UTF-8, which
	// encoding/json tolerates): decide exactly as before it existed.
	var parsed struct {
		Usage *openAIUsage    `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &parsed); err != nil {
		return nil, Usage{}, AsError(err)
	}
	if len(parsed.Error) > 0 && string(parsed.Error) != "null" {
		return nil, Usage{}, streamError(body)
	}
	return body, parsed.Usage.toUsage(), nil
}

// scanAnswer finds the top-level usage and error members of a valid JSON
// object without decoding the rest of the answer (issue 8: decoding the
// whole completion to read usage was 6% of a chat request's CPU).
func scanAnswer(body []byte) (usage, errVal []byte, ok bool) {
	if !edgejson.Valid(body) {
		return nil, nil, false
	}
	_, err := scanObject(body, func(key []byte, start, end int) {
		switch string(key) {
		case "usage":
			usage = body[start:end]
		case "error":
			errVal = body[start:end]
		}
	})
	return usage, errVal, err == nil
}

// openAIStream forwards OpenAI-family chunks, records usage, hides the
// forced usage chunk and drops Azure's empty filter-only chunks.
type openAIStream struct {
	includeUsage bool
	usage        Usage
	done         bool
	sawFinish    bool
	marks        chunkMarks // of the chunk being read
	// markKey is marks.key, bound once: a method value made per chunk
	// escapes to the heap (the validating scanner hands it bytes).
	markKey func(key []byte, escaped bool, value []byte)
}

func (f openAIFamily) newStream(includeUsage bool) Stream {
	s := &openAIStream{includeUsage: includeUsage}
	s.markKey = s.marks.key
	return s
}

var (
	doneMarker  = []byte("[DONE]")
	errorMarker = []byte(`"error"`)
)

func (s *openAIStream) Event(ev sse.Event, emit func([]byte) error) error {
	data := bytes.TrimSpace(ev.Data)
	if bytes.Equal(data, doneMarker) {
		s.done = true
		return nil
	}
	if len(data) == 0 {
		if raw := bytes.TrimSpace(ev.Raw); json.Valid(raw) && bytes.Contains(raw, errorMarker) {
			return streamError(raw) // a bare error object outside the SSE framing
		}
		return nil
	}
	s.marks = chunkMarks{}
	if !edgejson.ValidKeys(data, s.markKey) {
		if !json.Valid(data) { // encoding/json tolerates invalid UTF-8, which edgejson refuses
			return malformedStream(errInvalidChunk)
		}
		s.marks.special = true // the marks are of a prefix only: decode it
	}
	s.sawFinish = s.sawFinish || s.marks.finish
	if !s.marks.special {
		return emit(data) // fast path: an ordinary delta chunk
	}
	return s.inspect(ev.Name, data, emit)
}

// chunkMarks collects, from a chunk's keys as the validating pass meets
// them, what decides whether the chunk needs decoding. Keys are matched
// as keys (at any depth, whatever the whitespace around them), not as
// byte patterns. finish: a finish_reason string; special: usage or an
// error that is not null, an empty choices array, Azure's filter offsets,
// or a key with escapes (which could spell any of these), all of which
// inspect decodes.
type chunkMarks struct{ finish, special bool }

func (m *chunkMarks) key(key []byte, escaped bool, value []byte) {
	switch {
	case escaped:
		m.special = true
	case len(key) == 0 || len(value) == 0:
	case string(key) == "finish_reason":
		m.finish = m.finish || value[0] == '"'
	case string(key) == "usage", string(key) == "error":
		m.special = m.special || value[0] != 'n'
	case string(key) == "choices":
		m.special = m.special || emptyArray(value)
	case string(key) == "content_filter_offsets":
		m.special = true
	}
}

// emptyArray says whether value starts with an empty JSON array.
func emptyArray(value []byte) bool {
	if value[0] != '[' {
		return false
	}
	rest := bytes.TrimLeft(value[1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == ']'
}

func (s *openAIStream) inspect(name string, data []byte, emit func([]byte) error) error {
	var chunk struct {
		Choices []streamChoice  `json:"choices"`
		Usage   *openAIUsage    `json:"usage"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &chunk); err != nil {
		return malformedStream(err)
	}
	if (len(chunk.Error) > 0 && string(chunk.Error) != "null") || name == "error" {
		return streamError(data)
	}
	if chunk.Usage != nil {
		s.usage = chunk.Usage.toUsage()
	}
	if len(chunk.Choices) == 0 && (chunk.Usage == nil || !s.includeUsage) {
		return nil // Azure prompt_filter_results chunk, or a usage chunk the client did not ask for
	}
	if chunk.Usage == nil && !hasDelta(chunk.Choices) {
		return nil // Azure trailing content-filter chunk without delta: clients crash on it
	}
	return emit(data)
}

type streamChoice struct {
	Delta        json.RawMessage `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
}

func hasDelta(choices []streamChoice) bool {
	for _, c := range choices {
		if (len(c.Delta) > 0 && string(c.Delta) != "null") || c.FinishReason != nil {
			return true
		}
	}
	return false
}

func (s *openAIStream) Finish(func([]byte) error) (Usage, error) {
	if !s.done && !s.sawFinish {
		return s.usage, truncatedStream()
	}
	return s.usage, nil
}

var errInvalidChunk = errors.New("chunk is not valid JSON")

func malformedStream(err error) *Error {
	return &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_malformed_stream",
		Message: "The upstream service sent a malformed stream event: " + err.Error(), UpstreamStatus: http.StatusOK}
}

func truncatedStream() *Error {
	return &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_stream_truncated",
		Message: "The upstream stream ended before the response was complete.", UpstreamStatus: http.StatusOK, Retryable: true}
}

// Completions forwards the legacy /v1/completions endpoint. Only
// OpenAI-family and Azure upstreams implement it; the body passes through
// except the model value, and usage is read from the answer.
type Completions interface {
	Request(body []byte, t Target) (UpstreamRequest, error)
	Response(status int, body []byte) ([]byte, Usage, error)
	NewStream(body []byte) Stream
}

// CompletionsForProtocol returns the /v1/completions translator, or a 400
// *Error for protocols that have no such endpoint (Anthropic, Gemini).
func CompletionsForProtocol(protocol string, cfg OpenAIConfig) (Completions, error) {
	switch protocol {
	case ProtocolOpenAI:
		return openAICompletions{openAIFamily{cfg: cfg, endpoint: "completions"}}, nil
	case ProtocolAzure:
		return openAICompletions{openAIFamily{cfg: cfg, azure: true, endpoint: "completions"}}, nil
	}
	return nil, unsupported("model",
		"/v1/completions is not available for this model's provider; use /v1/chat/completions instead.")
}

type openAICompletions struct{ f openAIFamily }

type streamFlags struct {
	Stream        bool           `json:"stream"`
	StreamOptions *StreamOptions `json:"stream_options"`
}

func parseStreamFlags(body []byte) (stream, includeUsage bool) {
	var f streamFlags
	_ = json.Unmarshal(body, &f)
	return f.Stream, f.Stream && f.StreamOptions != nil && f.StreamOptions.IncludeUsage
}

func (c openAICompletions) Request(body []byte, t Target) (UpstreamRequest, error) {
	stream, includeUsage := parseStreamFlags(body)
	return c.f.request(body, t, stream && !includeUsage)
}

func (c openAICompletions) Response(status int, body []byte) ([]byte, Usage, error) {
	return c.f.response(status, body)
}

func (c openAICompletions) NewStream(body []byte) Stream {
	_, includeUsage := parseStreamFlags(body)
	return c.f.newStream(includeUsage)
}
