package fakes

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Protocol selects the wire dialect a Fake speaks.
type Protocol string

// The protocol families and variants a Fake can speak.
const (
	OpenAI    Protocol = "openai"    // api.openai.com: Bearer auth, OpenAI error bodies
	VLLM      Protocol = "vllm"      // vllm serve: list-only /v1/models, {"error":"Unauthorized"}
	NIM       Protocol = "nim"       // NVIDIA hosted catalog: RFC 7807 problem bodies, 403 bad key
	Anthropic Protocol = "anthropic" // /v1/messages with x-api-key + anthropic-version
	Gemini    Protocol = "gemini"    // /v1beta/models/{m}:generateContent, x-goog-api-key
	Azure     Protocol = "azure"     // /openai/deployments/{d}/... and /openai/v1/..., api-key
)

// Protocols lists every supported protocol, in a stable order.
var Protocols = []Protocol{OpenAI, VLLM, NIM, Anthropic, Gemini, Azure}

// ParseProtocol maps a name such as "anthropic" to its Protocol.
func ParseProtocol(name string) (Protocol, error) {
	for _, p := range Protocols {
		if strings.EqualFold(string(p), name) {
			return p, nil
		}
	}
	return "", fmt.Errorf("fakes: unknown protocol %q", name)
}

// Usage is the token usage a Fake reports, in OpenAI semantics: Prompt
// includes Cached and CacheWrite, Completion includes Reasoning.
type Usage struct {
	Prompt     int
	Completion int
	Cached     int // prompt tokens read from cache
	CacheWrite int // prompt tokens written to cache (Anthropic cache_creation)
	Reasoning  int // completion tokens spent thinking
}

// Total is Prompt + Completion.
func (u Usage) Total() int { return u.Prompt + u.Completion }

// Add returns the field-wise sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Prompt:     u.Prompt + v.Prompt,
		Completion: u.Completion + v.Completion,
		Cached:     u.Cached + v.Cached,
		CacheWrite: u.CacheWrite + v.CacheWrite,
		Reasoning:  u.Reasoning + v.Reasoning,
	}
}

// ToolCall is a function call the fake model makes. Arguments is the JSON
// text of the arguments object.
type ToolCall struct {
	Name      string
	Arguments string
}

// Config is the behaviour of a Fake. The zero value is usable: no auth, one
// default model per protocol, a four-chunk text answer and fixed usage.
type Config struct {
	// APIKey is the provider key the fake expects; "" disables auth checks.
	APIKey string
	// Models are the model ids (Azure: deployment names) the fake serves.
	// Requests for any other model get the protocol's 404.
	Models []string

	// Text is the answer; it is split into Chunks stream deltas. When empty
	// and there are no ToolCalls, a deterministic text of
	// Chunks*TokensPerChunk words is generated.
	Text           string
	Chunks         int // content deltas per stream (default 4)
	TokensPerChunk int // words per generated chunk (default 1)
	// ToolCalls make the answer call tools (after any Text).
	ToolCalls []ToolCall
	// ToolArgChunks is how many fragments each tool's arguments are streamed
	// in (OpenAI argument deltas, Anthropic input_json_delta; default 3).
	ToolArgChunks int
	// Thinking adds a reasoning block (Anthropic thinking, Gemini thought part).
	Thinking string
	// Finish forces the finish reason, in OpenAI terms (stop, length,
	// tool_calls, content_filter); "" derives it from ToolCalls.
	Finish string
	// Usage is reported on every answer. Zero Completion defaults to
	// Chunks*TokensPerChunk; zero Prompt defaults to 12.
	Usage Usage
	// GeminiUsageChunk ends Gemini streams with a usage-only chunk (no
	// candidates), as Gemini 3 models do.
	GeminiUsageChunk bool
	// EmbeddingDims is the length of each embedding vector (default 8).
	EmbeddingDims int

	// TTFB delays every response (including errors) before its headers.
	TTFB time.Duration
	// ChunkDelay is the pause between consecutive stream content deltas.
	ChunkDelay time.Duration
	// StampChunks makes each generated text chunk the token T<19 digits>:
	// the Unix time in nanoseconds at which the fake wrote that chunk, so a
	// client on the same machine can measure per-chunk latency through a
	// gateway (loadbench). Non-streamed answers carry T followed by zeros.
	StampChunks bool
	// StallAfter > 0 stops a stream after that many content deltas and keeps
	// the connection open in silence until the client leaves (or StallFor).
	StallAfter int
	// StallFor > 0 ends a stall after that long and resumes the stream.
	StallFor time.Duration
	// DropAfter > 0 aborts the connection after that many content deltas,
	// without a terminator (the client sees an unexpected EOF).
	DropAfter int
	// ErrorAfter > 0 sends the protocol's mid-stream error event after that
	// many content deltas, then ends the stream.
	ErrorAfter int
	// StreamError is the error kind of the mid-stream event (default
	// KindOverloaded).
	StreamError ErrorKind

	// KeepRequests is how many recent requests are retained (default 100).
	KeepRequests int
	// DisableHeaderOverrides ignores the per-request X-Fake-* headers.
	DisableHeaderOverrides bool

	forcedFault *Fault // set per request by X-Fake-Status
}

// defaultModels are served when Config.Models is empty.
var defaultModels = map[Protocol]string{
	OpenAI:    "gpt-4o-mini",
	VLLM:      "meta-llama/Llama-3.1-8B-Instruct",
	NIM:       "meta/llama-3.1-8b-instruct",
	Anthropic: "claude-sonnet-4-5",
	Gemini:    "gemini-2.5-flash",
	Azure:     "gpt-4o-deployment",
}

// withDefaults fills the zero fields that have a documented default.
func (c Config) withDefaults(p Protocol) Config {
	if len(c.Models) == 0 {
		c.Models = []string{defaultModels[p]}
	}
	c.Models = append([]string(nil), c.Models...)
	c.ToolCalls = append([]ToolCall(nil), c.ToolCalls...)
	if c.Chunks <= 0 {
		c.Chunks = 4
	}
	if c.TokensPerChunk <= 0 {
		c.TokensPerChunk = 1
	}
	if c.ToolArgChunks <= 0 {
		c.ToolArgChunks = 3
	}
	if c.Usage.Prompt == 0 {
		c.Usage.Prompt = 12
	}
	if c.Usage.Completion == 0 {
		c.Usage.Completion = c.Chunks * c.TokensPerChunk
	}
	if c.EmbeddingDims <= 0 {
		c.EmbeddingDims = 8
	}
	if c.StreamError == KindNone {
		c.StreamError = KindOverloaded
	}
	if c.KeepRequests <= 0 {
		c.KeepRequests = 100
	}
	return c
}

// hasModel reports whether id is one of the configured models.
func (c Config) hasModel(id string) bool {
	for _, m := range c.Models {
		if m == id {
			return true
		}
	}
	return false
}

// textChunks splits the answer text into the stream deltas.
func (c Config) textChunks() []string {
	if c.Text == "" {
		if len(c.ToolCalls) > 0 {
			return nil
		}
		if c.StampChunks {
			return stampedChunks(c.Chunks)
		}
		return generatedChunks(c.Chunks, c.TokensPerChunk)
	}
	return splitN(c.Text, c.Chunks)
}

// answerText is the whole answer as one string.
func (c Config) answerText() string { return strings.Join(c.textChunks(), "") }

// finishReason is the OpenAI finish reason of the answer.
func (c Config) finishReason() string {
	if c.Finish != "" {
		return c.Finish
	}
	if len(c.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

// generatedChunks builds n chunks of k words each: "tok1 tok2 …".
func generatedChunks(n, k int) []string {
	out := make([]string, n)
	word := 0
	for i := range out {
		var b strings.Builder
		for range k {
			word++
			fmt.Fprintf(&b, "tok%d ", word)
		}
		out[i] = b.String()
	}
	return out
}

// splitN cuts s into n pieces of near-equal rune length (fewer if s is
// shorter than n runes).
func splitN(s string, n int) []string {
	runes := []rune(s)
	if n > len(runes) {
		n = len(runes)
	}
	if n <= 1 {
		return []string{s}
	}
	out := make([]string, 0, n)
	for i := range n {
		lo, hi := i*len(runes)/n, (i+1)*len(runes)/n
		out = append(out, string(runes[lo:hi]))
	}
	return out
}

// Per-request overrides: a client that reaches the fake directly (a
// benchmark, a passthrough route, or a gateway that forwards x-* headers)
// can vary the behaviour of one request without touching the shared Config.
const (
	HeaderTTFB       = "X-Fake-TTFB"        // Go duration, e.g. "50ms"
	HeaderChunkDelay = "X-Fake-Chunk-Delay" // Go duration
	HeaderChunks     = "X-Fake-Chunks"      // int
	HeaderStallAfter = "X-Fake-Stall-After" // int
	HeaderDropAfter  = "X-Fake-Drop-After"  // int
	HeaderErrorAfter = "X-Fake-Error-After" // int
	HeaderStatus     = "X-Fake-Status"      // int: answer this status as an injected fault
	HeaderRetryAfter = "X-Fake-Retry-After" // seconds, with HeaderStatus
)

// applyOverrides returns cfg adjusted by the X-Fake-* request headers.
// Malformed values are ignored.
func applyOverrides(cfg Config, h http.Header) Config {
	setDuration(h.Get(HeaderTTFB), &cfg.TTFB)
	setDuration(h.Get(HeaderChunkDelay), &cfg.ChunkDelay)
	if setInt(h.Get(HeaderChunks), &cfg.Chunks) && cfg.Text == "" {
		cfg.Usage.Completion = cfg.Chunks * cfg.TokensPerChunk
	}
	setInt(h.Get(HeaderStallAfter), &cfg.StallAfter)
	setInt(h.Get(HeaderDropAfter), &cfg.DropAfter)
	setInt(h.Get(HeaderErrorAfter), &cfg.ErrorAfter)
	var status int
	if setInt(h.Get(HeaderStatus), &status) && status >= 400 {
		cfg.forcedFault = &Fault{Status: status, RetryAfter: h.Get(HeaderRetryAfter), AllPaths: true}
	}
	return cfg
}

func setDuration(raw string, dst *time.Duration) {
	if d, err := time.ParseDuration(raw); err == nil && d >= 0 {
		*dst = d
	}
}

func setInt(raw string, dst *int) bool {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return false
	}
	*dst = n
	return true
}
