package translate

import "encoding/json"

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
