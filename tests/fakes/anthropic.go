package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// anthropicDialect serves the Anthropic Messages API (PROTOCOLS.md §2).
type anthropicDialect struct{}

func (a anthropicDialect) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/models", handle(a.listModels))
	mux.HandleFunc("GET /v1/models/{id...}", handle(a.getModel))
	mux.HandleFunc("POST /v1/messages", handle(a.messages))
	mux.HandleFunc("POST /v1/messages/count_tokens", handle(a.countTokens))
	mux.HandleFunc("/", handle(func(ex *exchange) {
		ex.fail(apiErr{Kind: KindModelNotFound, Message: "Not Found"})
	}))
}

// admit checks x-api-key and anthropic-version and sets request-id.
func (a anthropicDialect) admit(ex *exchange) bool {
	ex.w.Header().Set("request-id", requestID(ex))
	key, want := ex.r.Header.Get("x-api-key"), ex.cfg.APIKey
	switch {
	case want != "" && key == "":
		ex.fail(apiErr{Kind: KindMissingKey})
	case want != "" && key != want:
		ex.fail(apiErr{Kind: KindInvalidKey})
	case ex.r.Header.Get("anthropic-version") == "":
		ex.fail(apiErr{Kind: KindBadRequest, Message: "anthropic-version: header is required"})
	default:
		return true
	}
	return false
}

func requestID(ex *exchange) string { return fmt.Sprintf("req_fake%06d", ex.entry.Seq) }

func (a anthropicDialect) modelInfo(id string) map[string]any {
	return map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-09-29T00:00:00Z"}
}

func (a anthropicDialect) listModels(ex *exchange) {
	if !a.admit(ex) {
		return
	}
	data := make([]map[string]any, 0, len(ex.cfg.Models))
	for _, m := range ex.cfg.Models {
		data = append(data, a.modelInfo(m))
	}
	ex.writeJSON(http.StatusOK, map[string]any{"data": data, "has_more": false,
		"first_id": ex.cfg.Models[0], "last_id": ex.cfg.Models[len(ex.cfg.Models)-1]})
}

func (a anthropicDialect) getModel(ex *exchange) {
	if !a.admit(ex) {
		return
	}
	id := ex.r.PathValue("id")
	ex.note(id, false)
	if !ex.cfg.hasModel(id) {
		ex.fail(apiErr{Kind: KindModelNotFound, Message: "model: " + id})
		return
	}
	ex.writeJSON(http.StatusOK, a.modelInfo(id))
}

// anthropicRequest is the part of a Messages request the fake validates.
type anthropicRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream      bool     `json:"stream"`
	Temperature *float64 `json:"temperature"`
}

// validate applies the rules Anthropic enforces that translators get wrong
// (PROTOCOLS.md rule 3 and §2.3); it returns the 400 message or "".
func (req anthropicRequest) validate() string {
	switch {
	case req.Model == "":
		return "model: Field required"
	case req.MaxTokens == nil:
		return "max_tokens: Field required"
	case len(req.Messages) == 0:
		return "messages: at least one message is required"
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 1):
		return "temperature: range: 0..1"
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if msg := emptyContent(m.Content); msg != "" {
			return fmt.Sprintf("messages.%d: %s", i, msg)
		}
	}
	return ""
}

// emptyContent rejects empty string content and empty text blocks.
func emptyContent(raw json.RawMessage) string {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if strings.TrimSpace(text) == "" {
			return "all messages must have non-empty content except for the optional final assistant message"
		}
		return ""
	}
	var blocks []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if json.Unmarshal(raw, &blocks) != nil || len(blocks) == 0 {
		return "all messages must have non-empty content except for the optional final assistant message"
	}
	for _, b := range blocks {
		if b.Type == "text" && (b.Text == nil || strings.TrimSpace(*b.Text) == "") {
			return "text content blocks must contain non-whitespace text"
		}
	}
	return ""
}

func (a anthropicDialect) messages(ex *exchange) {
	var req anthropicRequest
	if !a.admit(ex) || !ex.decode(&req) {
		return
	}
	ex.note(req.Model, req.Stream)
	if msg := req.validate(); msg != "" {
		ex.fail(apiErr{Kind: KindBadRequest, Message: msg})
		return
	}
	if !ex.cfg.hasModel(req.Model) {
		ex.fail(apiErr{Kind: KindModelNotFound, Message: "model: " + req.Model})
		return
	}
	if req.Stream {
		a.stream(ex, req.Model)
		return
	}
	ex.writeJSON(http.StatusOK, map[string]any{
		"id": messageID(ex), "type": "message", "role": "assistant", "model": req.Model,
		"content": a.contentBlocks(ex.cfg), "stop_reason": anthropicStopReason(ex.cfg.finishReason()),
		"stop_sequence": nil, "usage": anthropicUsage(ex.cfg.Usage),
	})
	ex.completed(ex.cfg.Usage)
}

func (a anthropicDialect) countTokens(ex *exchange) {
	if a.admit(ex) {
		ex.writeJSON(http.StatusOK, map[string]int{"input_tokens": ex.cfg.Usage.Prompt})
	}
}

func messageID(ex *exchange) string { return fmt.Sprintf("msg_fake%06d", ex.entry.Seq) }

func toolUseID(i int) string { return fmt.Sprintf("toolu_fake%02d", i) }

// contentBlocks is the final content array: thinking, text, tool_use.
func (a anthropicDialect) contentBlocks(cfg Config) []map[string]any {
	var blocks []map[string]any
	if cfg.Thinking != "" {
		blocks = append(blocks, map[string]any{"type": "thinking", "thinking": cfg.Thinking, "signature": "sig_fake"})
	}
	if text := cfg.answerText(); text != "" {
		blocks = append(blocks, map[string]any{"type": "text", "text": text})
	}
	for i, tc := range cfg.ToolCalls {
		blocks = append(blocks, map[string]any{"type": "tool_use", "id": toolUseID(i), "name": tc.Name,
			"input": jsonObject(tc.Arguments)})
	}
	return blocks
}

// jsonObject returns args as raw JSON, or {} when it is empty or invalid.
func jsonObject(args string) json.RawMessage {
	if strings.TrimSpace(args) == "" || !json.Valid([]byte(args)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(args)
}

func anthropicStopReason(finish string) string {
	switch finish {
	case "tool_calls":
		return "tool_use"
	case "length":
		return "max_tokens"
	case "content_filter":
		return "refusal"
	default:
		return "end_turn"
	}
}

// anthropicInput splits OpenAI-style prompt tokens into Anthropic's
// uncached input, cache reads and cache writes.
func anthropicInput(u Usage) map[string]any {
	return map[string]any{
		"input_tokens":                max(u.Prompt-u.Cached-u.CacheWrite, 0),
		"cache_creation_input_tokens": u.CacheWrite,
		"cache_read_input_tokens":     u.Cached,
	}
}

// anthropicUsage is the full usage object of a Message.
func anthropicUsage(u Usage) map[string]any {
	usage := anthropicInput(u)
	usage["output_tokens"] = u.Completion
	usage["cache_creation"] = map[string]int{"ephemeral_5m_input_tokens": u.CacheWrite, "ephemeral_1h_input_tokens": 0}
	usage["service_tier"] = "standard"
	if u.Reasoning > 0 {
		usage["output_tokens_details"] = map[string]int{"thinking_tokens": u.Reasoning}
	}
	return usage
}

// anthropicErrors maps each condition to its status, error type and stock message.
var anthropicErrors = map[ErrorKind]struct {
	status   int
	errType  string
	fallback string
}{
	KindBadRequest:    {400, "invalid_request_error", "Invalid request"},
	KindMissingKey:    {401, "authentication_error", "x-api-key header is required"},
	KindInvalidKey:    {401, "authentication_error", "invalid x-api-key"},
	KindPermission:    {403, "permission_error", "Your API key does not have permission to use the specified resource."},
	KindModelNotFound: {404, "not_found_error", "Not Found"},
	KindRateLimit: {429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit. " +
		"Please reduce the prompt length or the maximum tokens requested, or try again later."},
	KindQuota: {400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. " +
		"Please go to Plans & Billing to upgrade or purchase credits."},
	KindServer:     {500, "api_error", "Internal server error"},
	KindOverloaded: {529, "overloaded_error", "Overloaded"},
}

func (a anthropicDialect) renderError(ex *exchange, e apiErr) {
	spec := anthropicErrors[e.Kind]
	status := e.Status
	if status == 0 {
		status = spec.status
	}
	msg := e.Message
	if msg == "" || e.Kind == KindQuota || e.Kind == KindMissingKey || e.Kind == KindInvalidKey {
		msg = spec.fallback
	}
	ex.w.Header().Set("request-id", requestID(ex))
	if e.Kind == KindRateLimit {
		ex.w.Header().Set("anthropic-ratelimit-requests-remaining", "0")
	}
	ex.writeJSON(status, map[string]any{"type": "error",
		"error": map[string]string{"type": spec.errType, "message": msg}, "request_id": requestID(ex)})
}

func (a anthropicDialect) streamError(s *streamer, kind ErrorKind) {
	spec := anthropicErrors[kind]
	s.event("error", map[string]any{"type": "error", "error": map[string]string{"type": spec.errType, "message": spec.fallback}})
}
