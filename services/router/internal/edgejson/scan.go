// Package edgejson reads what the edge needs from an OpenAI-style request
// body (chat completions, completions, embeddings) in one pass, without
// decoding it, and swaps the model in place for forwarding.
//
// The scan validates the whole body (grammar, UTF-8, nesting depth, numbers
// within float64 range) and extracts model, stream, stream_options.include_usage,
// max_tokens, max_completion_tokens, n and a prompt-size estimate. Structural
// errors (syntax, depth, UTF-8, number range) always win over field errors,
// whatever their order in the body, so a hostile body gets one stable answer.
//
// Duplicate-key policy: the router forwards raw bytes, and decoders disagree
// on duplicates (Go keeps the last, others keep the first), so any key this
// package interprets (model, stream, stream_options, include_usage,
// max_tokens, max_completion_tokens, n, messages, prompt, input, tools,
// functions) must appear at most once, and must not be spelled differently
// (by letter case or escapes) from its canonical name, since Go's
// encoding/json matches keys case-insensitively. Violations are rejected
// with CodeDuplicateKey or CodeAmbiguousKey. Keys the package does not
// interpret pass through untouched.
package edgejson

import (
	"strings"
	"unicode/utf8"
)

// Defaults for Options fields left at zero.
const (
	DefaultMaxDepth      = 64
	DefaultMaxModelBytes = 256
	DefaultMaxN          = 128
	DefaultMaxMessages   = 10_000
	DefaultMaxTools      = 512
	maxDepthCeiling      = 1024

	// MediaPartTokens is the prompt-token allowance for one image, audio
	// clip or file part (roughly a high-detail 1024x1024 image).
	MediaPartTokens = 1000
	maxInt32        = 1<<31 - 1
)

// Options bound what Scan accepts. The zero value uses the defaults.
type Options struct {
	MaxDepth      int // nesting limit; the top-level object is depth 1; capped at 1024
	MaxModelBytes int // longest accepted model id
	MaxN          int // largest accepted n
	MaxMessages   int // most elements in "messages"
	MaxTools      int // most elements in "tools" plus "functions"
}

// Request is what the edge learns from a body. Absent integer fields are -1.
type Request struct {
	Model               string // decoded model id; "" when absent
	HasModel            bool
	Stream              bool
	IncludeUsage        bool  // stream_options.include_usage
	MaxTokens           int64 // max_tokens, -1 when absent or null
	MaxCompletionTokens int64 // max_completion_tokens, -1 when absent or null
	N                   int   // n, 1 when absent or null
	Messages            int   // element count of "messages"
	Tools               int   // element count of "tools" plus "functions"
	PromptBytes         int64 // text bytes in messages/prompt/input/tools/functions
	MediaParts          int   // binary parts (data URLs, audio, files) in those

	modelStart, modelEnd int // span of the model string token, quotes included
}

// OutputLimit returns the requested output cap: max_completion_tokens if
// set, else max_tokens. ok is false when the request sets neither.
func (r *Request) OutputLimit() (limit int64, ok bool) {
	if r.MaxCompletionTokens >= 0 {
		return r.MaxCompletionTokens, true
	}
	return r.MaxTokens, r.MaxTokens >= 0
}

// PromptTokens estimates prompt tokens on the high side (one token per three
// bytes of text, MediaPartTokens per media part), since a reservation that is
// too large is refunded at settlement while one too small lets bursts through.
func (r *Request) PromptTokens() int64 {
	return (r.PromptBytes+2)/3 + int64(r.MediaParts)*MediaPartTokens
}

// ReserveTokens is the token reservation for rate limiting: the prompt
// estimate plus n times the output cap (defaultOutput when the request sets none).
func (r *Request) ReserveTokens(defaultOutput int64) int64 {
	out, ok := r.OutputLimit()
	if !ok {
		out = defaultOutput
	}
	return r.PromptTokens() + int64(r.N)*out
}

// Scan reads body with the default Options.
func Scan(body []byte) (Request, error) {
	return Options{}.Scan(body)
}

// Scan validates body and extracts the request fields. A non-nil error is
// always an *Error.
func (o Options) Scan(body []byte) (Request, error) {
	o = o.withDefaults()
	t := topScan{
		s:    scanner{buf: body, maxDepth: o.MaxDepth},
		opts: o,
		req:  Request{MaxTokens: -1, MaxCompletionTokens: -1, N: 1},
	}
	if err := t.run(); err != nil {
		return Request{}, err
	}
	if t.fieldErr != nil {
		return Request{}, t.fieldErr
	}
	return t.req, nil
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	o.MaxDepth = min(o.MaxDepth, maxDepthCeiling)
	if o.MaxModelBytes <= 0 {
		o.MaxModelBytes = DefaultMaxModelBytes
	}
	if o.MaxN <= 0 {
		o.MaxN = DefaultMaxN
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxTools <= 0 {
		o.MaxTools = DefaultMaxTools
	}
	return o
}

// field identifies a top-level key the scan interprets.
type field uint8

const (
	fieldOther field = iota
	fieldModel
	fieldStream
	fieldStreamOptions
	fieldMaxTokens
	fieldMaxCompletionTokens
	fieldN
	fieldMessages
	fieldPrompt
	fieldInput
	fieldTools
	fieldFunctions
)

// topLevelNames is indexed by field.
var topLevelNames = []string{
	"", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens",
	"n", "messages", "prompt", "input", "tools", "functions",
}

var includeUsageNames = []string{"", "include_usage"}

// matchKey finds key among names (index 0 is never matched). exact is false
// when key only matches after case folding, which a case-insensitive decoder
// downstream would treat as the same key.
func matchKey(key []byte, names []string) (idx int, exact bool) {
	for i := 1; i < len(names); i++ {
		if string(key) == names[i] {
			return i, true
		}
	}
	for i := 1; i < len(names); i++ {
		c := key[0] // callers never pass an empty key
		if c >= utf8.RuneSelf || c|0x20 == names[i][0] {
			if strings.EqualFold(string(key), names[i]) {
				return i, false
			}
		}
	}
	return 0, false
}

// keyName returns the decoded key at raw, or nil when it cannot name
// anything (a lone surrogate). Only the rare escaped key is copied.
func keyName(raw []byte, escaped bool) []byte {
	if !escaped {
		return raw
	}
	k, ok := appendUnescaped(nil, raw)
	if !ok {
		return nil
	}
	return k
}

// RewriteModel returns a copy of body whose top-level "model" value is
// newModel; every other byte is kept as it was. body is scanned with the
// default Options first, so a body Scan rejects is rejected here too.
func RewriteModel(body []byte, newModel string) ([]byte, error) {
	req, err := Scan(body)
	if err != nil {
		return nil, err
	}
	return req.RewriteModel(body, newModel)
}

// RewriteModel is RewriteModel for a body this Request was scanned from,
// saving the second scan on the hot path. body must be that same, unmodified
// slice.
func (r *Request) RewriteModel(body []byte, newModel string) ([]byte, error) {
	if !r.HasModel {
		return nil, &Error{Code: CodeNoModel, Param: "model",
			Message: "You must provide a model parameter."}
	}
	if r.modelEnd > len(body) || r.modelEnd-r.modelStart < 2 ||
		body[r.modelStart] != '"' || body[r.modelEnd-1] != '"' {
		return nil, &Error{Code: CodeInvalidValue, Param: "model",
			Message: "The body does not match the scanned request."}
	}
	if !utf8.ValidString(newModel) {
		return nil, &Error{Code: CodeInvalidUTF8, Param: "model",
			Message: "The replacement model id is not valid UTF-8."}
	}
	out := make([]byte, 0, len(body)-(r.modelEnd-r.modelStart)+len(newModel)+8)
	out = append(out, body[:r.modelStart]...)
	out = appendQuoted(out, newModel)
	return append(out, body[r.modelEnd:]...), nil
}

// appendQuoted appends s as a JSON string. Only what JSON requires is
// escaped (no HTML escaping), so ids come out as readable as they went in.
func appendQuoted(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
