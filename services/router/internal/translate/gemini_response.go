package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

type geminiResponse struct {
	Candidates     []geminiCandidate `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *geminiUsage    `json:"usageMetadata"`
	ResponseID    string          `json:"responseId"`
	Error         json.RawMessage `json:"error"`
}

type geminiCandidate struct {
	Content      *geminiContent `json:"content"`
	FinishReason string         `json:"finishReason"`
	Index        int            `json:"index"`
}

type geminiUsage struct {
	PromptTokenCount        int64 `json:"promptTokenCount"`
	CandidatesTokenCount    int64 `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int64 `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount"`
	CachedContentTokenCount int64 `json:"cachedContentTokenCount"`
}

// usage applies rule 8: completion tokens include thoughts.
func (u *geminiUsage) usage() Usage {
	if u == nil {
		return Usage{}
	}
	return Usage{
		PromptTokens:     addSat(u.PromptTokenCount, u.ToolUsePromptTokenCount),
		CompletionTokens: addSat(u.CandidatesTokenCount, u.ThoughtsTokenCount),
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
	}.normalize()
}

var geminiFilterReasons = map[string]bool{
	"SAFETY": true, "BLOCKLIST": true, "PROHIBITED_CONTENT": true, "SPII": true, "IMAGE_SAFETY": true,
	"IMAGE_PROHIBITED_CONTENT": true, "RECITATION": true, "IMAGE_RECITATION": true, "LANGUAGE": true,
	"OTHER": true, "NO_IMAGE": true, "IMAGE_OTHER": true,
}

// geminiFinish maps finishReason to the edge's four values; STOP with
// function calls is tool_calls because Gemini has no tool finish reason.
func geminiFinish(reason string, sawCalls bool) string {
	switch {
	case reason == "MAX_TOKENS":
		return finishLength
	case geminiFilterReasons[reason]:
		return finishContentFilter
	case sawCalls:
		return finishToolCalls
	}
	return finishStop
}

// geminiCallID uses Gemini's id when it sent one, else a synthesized call_ id.
func geminiCallID(fc *geminiFunctionCall, signature string) string {
	id := fc.ID
	if id == "" {
		id = newID("call_")
	}
	return joinCallID(id, signature)
}

func (geminiChat) Response(req *ChatRequest, status int, body []byte) ([]byte, Usage, error) {
	if status >= 400 {
		return nil, Usage{}, NormalizeError(status, body)
	}
	var resp geminiResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, Usage{}, malformedStream(err)
	}
	if len(resp.Error) > 0 && string(resp.Error) != "null" {
		return nil, Usage{}, streamError(body)
	}
	usage := resp.UsageMetadata.usage()
	out := completion{ID: resp.ResponseID, Object: "chat.completion", Created: clock(), Model: req.Model, Usage: toUsageJSON(usage)}
	if out.ID == "" {
		out.ID = newID("chatcmpl-")
	}
	for _, c := range resp.Candidates {
		out.Choices = append(out.Choices, geminiChoice(c))
	}
	if len(out.Choices) == 0 {
		if resp.PromptFeedback == nil || resp.PromptFeedback.BlockReason == "" {
			return nil, usage, &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_empty_response",
				Message: "The upstream service returned no candidates.", UpstreamStatus: status, Retryable: true}
		}
		// A blocked prompt is HTTP 200 with no candidates (rule 25).
		out.Choices = []completionChoice{{Message: completionMessage{Role: "assistant"}, FinishReason: finishContentFilter}}
	}
	return out.marshal(), usage, nil
}

func geminiChoice(c geminiCandidate) completionChoice {
	var text strings.Builder
	var calls []outToolCall
	if c.Content != nil {
		for _, p := range c.Content.Parts {
			switch {
			case p.Thought:
			case p.FunctionCall != nil:
				calls = append(calls, newToolCall(geminiCallID(p.FunctionCall, p.ThoughtSignature), p.FunctionCall.Name, compactArgs(p.FunctionCall.Args)))
			default:
				text.WriteString(p.Text)
			}
		}
	}
	msg := completionMessage{Role: "assistant", ToolCalls: calls}
	if text.Len() > 0 || len(calls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	return completionChoice{Index: c.Index, Message: msg, FinishReason: geminiFinish(c.FinishReason, len(calls) > 0)}
}

// maxCandidates bounds per-candidate state against a hostile index.
const maxCandidates = 128

type candidateState struct {
	seen, finished bool
	tools          int
}

// geminiStream converts `alt=sse` GenerateContentResponse events.
type geminiStream struct {
	model        string
	includeUsage bool
	cw           *chunkWriter
	usage        *geminiUsage
	cands        []candidateState
	err          error // first failure; Finish then only reports usage
}

var errCandidateIndex = errors.New("candidate index out of range")

func (geminiChat) NewStream(req *ChatRequest) Stream {
	return &geminiStream{model: req.Model, includeUsage: req.IncludeUsage()}
}

func (s *geminiStream) Event(ev sse.Event, emit func([]byte) error) error {
	if s.err != nil {
		return s.err
	}
	s.err = s.event(ev, emit)
	return s.err
}

func (s *geminiStream) event(ev sse.Event, emit func([]byte) error) error {
	data := ev.Data
	if len(bytes.TrimSpace(data)) == 0 {
		data = ev.Raw // a bare error object outside the SSE framing
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var resp geminiResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return malformedStream(err)
	}
	if len(resp.Error) > 0 && string(resp.Error) != "null" {
		return streamError(data)
	}
	if resp.UsageMetadata != nil {
		s.usage = resp.UsageMetadata // cumulative: keep the last (rule 7)
	}
	s.ensureWriter(resp.ResponseID)
	for _, c := range resp.Candidates {
		if err := s.candidate(c, emit); err != nil {
			return err
		}
	}
	if len(resp.Candidates) == 0 && resp.PromptFeedback != nil && resp.PromptFeedback.BlockReason != "" {
		return s.finishCandidate(0, finishContentFilter, emit)
	}
	return nil
}

func (s *geminiStream) ensureWriter(id string) {
	if s.cw != nil {
		return
	}
	if id == "" {
		id = newID("chatcmpl-")
	}
	s.cw = newChunkWriter(id, s.model, clock(), s.includeUsage)
}

func (s *geminiStream) state(index int, emit func([]byte) error) (*candidateState, error) {
	if index < 0 || index >= maxCandidates {
		return nil, malformedStream(errCandidateIndex)
	}
	for len(s.cands) <= index {
		s.cands = append(s.cands, candidateState{})
	}
	st := &s.cands[index]
	if !st.seen {
		st.seen = true
		return st, emit(s.cw.role(index))
	}
	return st, nil
}

func (s *geminiStream) candidate(c geminiCandidate, emit func([]byte) error) error {
	st, err := s.state(c.Index, emit)
	if err != nil || st.finished {
		return err
	}
	if c.Content != nil {
		for _, p := range c.Content.Parts {
			if err := s.part(c.Index, st, p, emit); err != nil {
				return err
			}
		}
	}
	if c.FinishReason == "" {
		return nil
	}
	return s.finishCandidate(c.Index, geminiFinish(c.FinishReason, st.tools > 0), emit)
}

// part emits one text delta or one complete tool call (Gemini never splits
// function call arguments); tool indexes count calls per candidate (rule 2).
func (s *geminiStream) part(index int, st *candidateState, p geminiPart, emit func([]byte) error) error {
	switch {
	case p.Thought:
		return nil
	case p.FunctionCall != nil:
		k := st.tools
		st.tools++
		fc := p.FunctionCall
		return emit(s.cw.toolCall(index, k, geminiCallID(fc, p.ThoughtSignature), fc.Name, compactArgs(fc.Args)))
	case p.Text != "":
		return emit(s.cw.content(index, p.Text))
	}
	return nil
}

func (s *geminiStream) finishCandidate(index int, reason string, emit func([]byte) error) error {
	st, err := s.state(index, emit)
	if err != nil || st.finished {
		return err
	}
	st.finished = true
	return emit(s.cw.finish(index, reason))
}

// Finish closes candidates that reached EOF without a finishReason (EOF is
// Gemini's normal end of stream) and emits the usage chunk if asked.
func (s *geminiStream) Finish(emit func([]byte) error) (Usage, error) {
	usage := s.usage.usage()
	if s.err != nil {
		return usage, s.err
	}
	if s.cw == nil {
		return usage, truncatedStream()
	}
	if len(s.cands) == 0 {
		s.cands = append(s.cands, candidateState{seen: false})
		if err := s.finishCandidate(0, finishStop, emit); err != nil {
			return usage, err
		}
	}
	for i := range s.cands {
		if !s.cands[i].seen {
			continue
		}
		if err := s.finishCandidate(i, finishStop, emit); err != nil {
			return usage, err
		}
	}
	if s.includeUsage {
		return usage, emit(s.cw.usage(usage))
	}
	return usage, nil
}
