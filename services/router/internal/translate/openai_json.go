package translate

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Edge finish reasons: the only four values the edge ever emits (rule 1).
const (
	finishStop          = "stop"
	finishLength        = "length"
	finishToolCalls     = "tool_calls"
	finishContentFilter = "content_filter"
)

// completion is the OpenAI chat.completion body built from a non-OpenAI
// upstream. Content and Refusal are pointers without omitempty so a
// tool-only answer renders "content": null as OpenAI does.
type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   usageJSON          `json:"usage"`
}

type completionChoice struct {
	Index        int               `json:"index"`
	Message      completionMessage `json:"message"`
	Logprobs     *struct{}         `json:"logprobs"`
	FinishReason string            `json:"finish_reason"`
}

type completionMessage struct {
	Role      string        `json:"role"`
	Content   *string       `json:"content"`
	Refusal   *string       `json:"refusal"`
	ToolCalls []outToolCall `json:"tool_calls,omitempty"`
}

type outToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func newToolCall(id, name, arguments string) outToolCall {
	tc := outToolCall{ID: id, Type: "function"}
	tc.Function.Name, tc.Function.Arguments = name, arguments
	return tc
}

type usageJSON struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func toUsageJSON(u Usage) usageJSON {
	out := usageJSON{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	out.PromptTokensDetails.CachedTokens = u.CachedTokens
	out.CompletionTokensDetails.ReasoningTokens = u.ReasoningTokens
	return out
}

func (c *completion) marshal() []byte {
	out, _ := json.Marshal(c)
	return out
}

// chunkWriter builds chat.completion.chunk payloads by appending to a reused
// buffer: streams are the hot path (one call per upstream token).
type chunkWriter struct {
	prefix []byte // {"id":…,"object":…,"created":…,"model":…,"choices":[
	suffix string // ],"usage":null} when the client asked for usage, else ]}
	buf    []byte
}

func newChunkWriter(id, model string, created int64, includeUsage bool) *chunkWriter {
	p := append([]byte(`{"id":`), quoteJSON(id)...)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, created, 10)
	p = append(p, `,"model":`...)
	p = append(p, quoteJSON(model)...)
	p = append(p, `,"choices":[`...)
	cw := &chunkWriter{prefix: p, suffix: "]}"}
	if includeUsage {
		cw.suffix = `],"usage":null}`
	}
	return cw
}

func (c *chunkWriter) open(choice int) []byte {
	c.buf = append(c.buf[:0], c.prefix...)
	c.buf = append(c.buf, `{"index":`...)
	c.buf = strconv.AppendInt(c.buf, int64(choice), 10)
	return append(c.buf, `,"delta":{`...)
}

func (c *chunkWriter) close(b []byte, finish string) []byte {
	b = append(b, `},"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, finish)
	}
	b = append(b, '}')
	c.buf = append(b, c.suffix...)
	return c.buf
}

func (c *chunkWriter) role(choice int) []byte {
	return c.close(append(c.open(choice), `"role":"assistant","content":""`...), "")
}

func (c *chunkWriter) content(choice int, text string) []byte {
	b := append(c.open(choice), `"content":`...)
	return c.close(appendJSONString(b, text), "")
}

// contentQuoted is content for text that is already a JSON string literal
// (quotes included) in the form appendJSONString would write.
func (c *chunkWriter) contentQuoted(choice int, quoted []byte) []byte {
	b := append(c.open(choice), `"content":`...)
	return c.close(append(b, quoted...), "")
}

// toolCall renders a tool-call delta; id and name are set on the first delta
// of a call only, later deltas carry argument fragments.
func (c *chunkWriter) toolCall(choice, index int, id, name, args string) []byte {
	b := append(c.open(choice), `"tool_calls":[{"index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, id)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendJSONString(b, name)
		b = append(b, `,"arguments":`...)
	} else {
		b = append(b, `,"function":{"arguments":`...)
	}
	b = appendJSONString(b, args)
	return c.close(append(b, "}}]"...), "")
}

func (c *chunkWriter) finish(choice int, reason string) []byte {
	return c.close(c.open(choice), reason)
}

// usage renders the final include_usage chunk: choices is always [].
func (c *chunkWriter) usage(u Usage) []byte {
	b := append(c.buf[:0], c.prefix...)
	b = append(b, `],"usage":`...)
	uj, _ := json.Marshal(toUsageJSON(u))
	b = append(b, uj...)
	c.buf = append(b, '}')
	return c.buf
}

func quoteJSON(s string) []byte { return appendJSONString(nil, s) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// so the output is always valid JSON whatever the upstream sent.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedByte(dst, b)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendEscapedByte(dst []byte, b byte) []byte {
	switch b {
	case '"', '\\':
		return append(dst, '\\', b)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
}
