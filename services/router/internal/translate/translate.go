// Package translate converts OpenAI-compatible edge requests into each
// upstream protocol and converts the upstream answers (bodies, SSE streams and
// errors) back into exactly what OpenAI would have returned.
//
// One group of files per protocol: passthrough.go for OpenAI-family upstreams
// and Azure OpenAI deployments (chat, legacy completions), anthropic*.go for
// the Anthropic Messages API, gemini*.go for Gemini generateContent and
// embeddings.go for /v1/embeddings. Every
// translator implements Chat; streams keep their per-request state in a Stream.
// The package is pure: it never does I/O, never sees credentials, and the
// caller adds the base URL and auth headers to an UpstreamRequest.
package translate

import (
	"crypto/rand"
	"encoding/base32"
	"net/url"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

// Protocol names as stored in the registry's Service.protocol field.
const (
	ProtocolOpenAI    = "OPENAI_V1"
	ProtocolAnthropic = "ANTHROPIC_V1"
	ProtocolGemini    = "GEMINI_V1_BETA"
	ProtocolAzure     = "AZURE_OPENAI"
)

// Usage is the token accounting of one exchange, in OpenAI semantics:
// PromptTokens includes CachedTokens and CompletionTokens includes
// ReasoningTokens; TotalTokens = PromptTokens + CompletionTokens.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	CachedTokens     int64
	ReasoningTokens  int64
}

// UpstreamRequest is the HTTP call to make to the upstream service. Path is
// relative to the service's base URL; the caller adds base URL and auth.
type UpstreamRequest struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
}

// Target is what the route resolved the edge model to.
type Target struct {
	// Model is the provider's model id (body or path, per protocol).
	Model string
	// AzureDeployment and AzureAPIVersion are used by the Azure translator only.
	AzureDeployment string
	AzureAPIVersion string
}

// Chat translates /v1/chat/completions exchanges for one upstream protocol.
// Implementations are stateless and safe for concurrent use.
type Chat interface {
	// Request builds the upstream call for a decoded edge request. It returns
	// an *Error (HTTP 400) when the upstream cannot honour the request.
	Request(req *ChatRequest, t Target) (UpstreamRequest, error)
	// Response converts a complete upstream response. For status >= 400 (or
	// an error carried in a 200 body) it returns a normalised *Error.
	Response(req *ChatRequest, status int, body []byte) ([]byte, Usage, error)
	// NewStream returns the per-request state that converts a 200 upstream
	// event stream into OpenAI chat.completion.chunk payloads.
	NewStream(req *ChatRequest) Stream
}

// Stream converts one upstream event stream. Emitted payloads are the JSON of
// one edge `data:` event; the slice is only valid during the emit call.
// The caller writes `data: [DONE]` after a successful Finish. When Event or
// Finish returns an *Error, the caller writes `data: <err.JSON()>` and closes
// the stream (usage returned by Finish is still the best partial count).
type Stream interface {
	Event(ev sse.Event, emit func(chunk []byte) error) error
	// Finish is called once at upstream EOF (or after a failure, to collect
	// partial usage). It emits the final usage chunk only when the client set
	// stream_options.include_usage, and reports a truncated stream as an error.
	Finish(emit func(chunk []byte) error) (Usage, error)
}

// ForProtocol returns the chat translator for a registry protocol name.
func ForProtocol(protocol string, cfg OpenAIConfig) (Chat, bool) {
	switch protocol {
	case ProtocolOpenAI:
		return NewOpenAI(cfg), true
	case ProtocolAzure:
		return NewAzure(cfg), true
	case ProtocolAnthropic:
		return NewAnthropic(AnthropicConfig{}), true
	case ProtocolGemini:
		return NewGemini(), true
	}
	return nil, false
}

// clock and newID are variables so golden tests get stable output.
var (
	clock = func() int64 { return time.Now().Unix() }
	newID = randomID
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID returns prefix followed by 24 random lowercase characters.
func randomID(prefix string) string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

func addSat(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a > (1<<63-1)-b {
		return 1<<63 - 1
	}
	return a + b
}

// normalize clamps counts to be non-negative and derives TotalTokens.
func (u Usage) normalize() Usage {
	u.PromptTokens = max(u.PromptTokens, 0)
	u.CompletionTokens = max(u.CompletionTokens, 0)
	u.CachedTokens = min(max(u.CachedTokens, 0), u.PromptTokens)
	u.ReasoningTokens = min(max(u.ReasoningTokens, 0), u.CompletionTokens)
	u.TotalTokens = addSat(u.PromptTokens, u.CompletionTokens)
	return u
}
