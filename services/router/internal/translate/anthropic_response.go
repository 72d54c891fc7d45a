package translate

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

type anthropicUsage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
	OutputTokensDetails      *struct {
		ThinkingTokens *int64 `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

// anthropicCounts accumulates Anthropic usage; stream values are cumulative,
// so present fields are assigned, never added (rule 7).
type anthropicCounts struct{ input, output, cacheCreate, cacheRead, thinking int64 }

func (c *anthropicCounts) merge(u *anthropicUsage) {
	if u == nil {
		return
	}
	assign := func(dst *int64, src *int64) {
		if src != nil {
			*dst = max(*src, 0)
		}
	}
	assign(&c.input, u.InputTokens)
	assign(&c.output, u.OutputTokens)
	assign(&c.cacheCreate, u.CacheCreationInputTokens)
	assign(&c.cacheRead, u.CacheReadInputTokens)
	if u.OutputTokensDetails != nil {
		assign(&c.thinking, u.OutputTokensDetails.ThinkingTokens)
	}
}

// usage applies rule 8: prompt tokens include cache reads and writes.
func (c anthropicCounts) usage() Usage {
	return Usage{
		PromptTokens:     addSat(addSat(c.input, c.cacheRead), c.cacheCreate),
		CompletionTokens: c.output,
		CachedTokens:     c.cacheRead,
		ReasoningTokens:  c.thinking,
	}.normalize()
}

func anthropicFinish(stopReason string, jsonMode bool) string {
	switch stopReason {
	case "max_tokens", "model_context_window_exceeded":
		return finishLength
	case "tool_use":
		if jsonMode {
			return finishStop
		}
		return finishToolCalls
	case "refusal":
		return finishContentFilter
	}
	return finishStop // end_turn, stop_sequence, pause_turn and unknown values
}

type anthropicContent struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

func (a *anthropicChat) Response(req *ChatRequest, status int, body []byte) ([]byte, Usage, error) {
	if status >= 400 {
		return nil, Usage{}, NormalizeError(status, body)
	}
	var resp struct {
		Type       string             `json:"type"`
		ID         string             `json:"id"`
		Content    []anthropicContent `json:"content"`
		StopReason string             `json:"stop_reason"`
		Usage      *anthropicUsage    `json:"usage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, Usage{}, malformedStream(err)
	}
	if resp.Type == "error" {
		return nil, Usage{}, streamError(body)
	}
	var counts anthropicCounts
	counts.merge(resp.Usage)
	usage := counts.usage()
	jsonMode := anthropicJSONMode(req)
	msg := anthropicMessageOut(resp.Content, jsonMode)
	out := completion{ID: resp.ID, Object: "chat.completion", Created: clock(), Model: req.Model,
		Choices: []completionChoice{{Message: msg, FinishReason: anthropicFinish(resp.StopReason, jsonMode)}},
		Usage:   toUsageJSON(usage)}
	return out.marshal(), usage, nil
}

// anthropicMessageOut concatenates every text block (rule 24) and turns
// tool_use blocks into tool calls, or into content in JSON mode.
func anthropicMessageOut(blocks []anthropicContent, jsonMode bool) completionMessage {
	var text strings.Builder
	var calls []outToolCall
	hasText := false
	for _, b := range blocks {
		switch {
		case b.Type == "text":
			text.WriteString(b.Text)
			hasText = true
		case b.Type == "tool_use" && jsonMode && b.Name == jsonToolName:
			text.WriteString(compactArgs(b.Input))
			hasText = true
		case b.Type == "tool_use":
			calls = append(calls, newToolCall(b.ID, b.Name, compactArgs(b.Input)))
		}
	}
	msg := completionMessage{Role: "assistant", ToolCalls: calls}
	if hasText || len(calls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	return msg
}

// compactArgs renders tool input as the arguments string ("{}" when absent).
func compactArgs(input json.RawMessage) string {
	var buf bytes.Buffer
	if len(input) == 0 || string(input) == "null" || json.Compact(&buf, input) != nil {
		return "{}"
	}
	return buf.String()
}

// anthropicStream converts Anthropic Messages events to OpenAI chunks.
type anthropicStream struct {
	model        string
	includeUsage bool
	jsonMode     bool
	cw           *chunkWriter
	counts       anthropicCounts
	blocks       map[int]int // content-block index → tool-call index (jsonBlock for the JSON-mode tool)
	nextTool     int
	stopReason   string
	stopped      bool
	err          error // first failure; Finish then only reports usage
}

const jsonBlock = -1

func (a *anthropicChat) NewStream(req *ChatRequest) Stream {
	return &anthropicStream{model: req.Model, includeUsage: req.IncludeUsage(), jsonMode: anthropicJSONMode(req),
		blocks: map[int]int{}}
}

type anthropicEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string          `json:"id"`
		Usage *anthropicUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *anthropicContent `json:"content_block"`
	Delta        *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
}

func (s *anthropicStream) Event(ev sse.Event, emit func([]byte) error) error {
	if s.err != nil {
		return s.err
	}
	s.err = s.event(ev, emit)
	return s.err
}

func (s *anthropicStream) event(ev sse.Event, emit func([]byte) error) error {
	if len(ev.Data) == 0 || s.stopped {
		return nil
	}
	if handled, err := s.fastPath(ev.Data, emit); handled {
		return err
	}
	var e anthropicEvent
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return malformedStream(err)
	}
	if e.Type == "" {
		e.Type = ev.Name
	}
	switch e.Type {
	case "message_start":
		return s.start(e, emit)
	case "content_block_start":
		return s.blockStart(e, emit)
	case "content_block_delta":
		return s.blockDelta(e, emit)
	case "message_delta":
		if e.Delta != nil && e.Delta.StopReason != "" {
			s.stopReason = e.Delta.StopReason
		}
		s.counts.merge(e.Usage)
	case "message_stop":
		s.stopped = true
		return s.emitFinish(emit)
	case "error":
		return streamError(ev.Data)
	}
	return nil // ping, content_block_stop and future event types
}

func (s *anthropicStream) start(e anthropicEvent, emit func([]byte) error) error {
	if s.cw != nil {
		return nil
	}
	id := ""
	if e.Message != nil {
		id = e.Message.ID
		s.counts.merge(e.Message.Usage)
	}
	return s.ensureStarted(id, emit)
}

func (s *anthropicStream) ensureStarted(id string, emit func([]byte) error) error {
	if s.cw != nil {
		return nil
	}
	if id == "" {
		id = newID("chatcmpl-")
	}
	s.cw = newChunkWriter(id, s.model, clock(), s.includeUsage)
	return emit(s.cw.role(0))
}

func (s *anthropicStream) blockStart(e anthropicEvent, emit func([]byte) error) error {
	b := e.ContentBlock
	if b == nil {
		return nil
	}
	if err := s.ensureStarted("", emit); err != nil {
		return err
	}
	switch {
	case b.Type == "text" && b.Text != "":
		return emit(s.cw.content(0, b.Text))
	case b.Type != "tool_use":
		return nil // thinking and server-tool blocks are not part of the answer
	}
	args := compactArgs(b.Input)
	if args == "{}" {
		args = "" // "{}" followed by input_json_delta fragments would be invalid JSON (rule 18)
	}
	if s.jsonMode && b.Name == jsonToolName {
		s.blocks[e.Index] = jsonBlock
		return s.emitContent(args, emit)
	}
	k := s.nextTool
	s.nextTool++
	s.blocks[e.Index] = k
	return emit(s.cw.toolCall(0, k, b.ID, b.Name, args))
}

func (s *anthropicStream) blockDelta(e anthropicEvent, emit func([]byte) error) error {
	d := e.Delta
	if d == nil {
		return nil
	}
	if err := s.ensureStarted("", emit); err != nil {
		return err
	}
	switch d.Type {
	case "text_delta":
		return s.emitContent(d.Text, emit)
	case "input_json_delta":
		k, ok := s.blocks[e.Index]
		switch {
		case !ok || d.PartialJSON == "":
			return nil
		case k == jsonBlock:
			return s.emitContent(d.PartialJSON, emit)
		}
		return emit(s.cw.toolCall(0, k, "", "", d.PartialJSON))
	}
	return nil // thinking, signature and citation deltas stay out of content (rule 23)
}

func (s *anthropicStream) emitContent(text string, emit func([]byte) error) error {
	if text == "" {
		return nil
	}
	return emit(s.cw.content(0, text))
}

func (s *anthropicStream) emitFinish(emit func([]byte) error) error {
	if err := s.ensureStarted("", emit); err != nil {
		return err
	}
	return emit(s.cw.finish(0, anthropicFinish(s.stopReason, s.jsonMode)))
}

func (s *anthropicStream) Finish(emit func([]byte) error) (Usage, error) {
	usage := s.counts.usage()
	if s.err != nil {
		return usage, s.err
	}
	if !s.stopped {
		return usage, truncatedStream()
	}
	if s.includeUsage {
		return usage, emit(s.cw.usage(usage))
	}
	return usage, nil
}
