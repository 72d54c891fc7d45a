package fakes

import (
	"fmt"
	"net/http"
	"time"
)

// chunker builds the chat.completion.chunk objects of one stream; id and
// created are identical on every chunk, as OpenAI sends them.
type chunker struct {
	id, object, model string
	created           int64
	includeUsage      bool
}

func newChunker(id, object, model string, includeUsage bool) chunker {
	return chunker{id: id, object: object, model: model, created: time.Now().Unix(), includeUsage: includeUsage}
}

// chunk wraps one choice; OpenAI sends "usage": null on every chunk but the
// usage chunk, and only when include_usage was requested.
func (c chunker) chunk(choice map[string]any) map[string]any {
	out := map[string]any{"id": c.id, "object": c.object, "created": c.created, "model": c.model,
		"system_fingerprint": "fp_fake", "choices": []any{choice}}
	if c.includeUsage {
		out["usage"] = nil
	}
	return out
}

func (c chunker) delta(delta map[string]any, finish any) map[string]any {
	return c.chunk(map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish})
}

// usageChunk is the extra include_usage chunk: empty choices, totals.
func (c chunker) usageChunk(u Usage) map[string]any {
	return map[string]any{"id": c.id, "object": c.object, "created": c.created, "model": c.model,
		"system_fingerprint": "fp_fake", "choices": []any{}, "usage": openaiUsage(u)}
}

// streamChat writes a chat completion as SSE: role chunk, content deltas,
// tool-call deltas, finish chunk, optional usage chunk, [DONE].
func (o *openaiFamily) streamChat(ex *exchange, model string, includeUsage bool) {
	cfg := ex.cfg
	c := newChunker(chatID(ex), "chat.completion.chunk", model, includeUsage)
	s := ex.startStream(false)
	if o.variant == Azure && !s.event("", azureFilterChunk()) {
		return
	}
	if !s.event("", c.delta(map[string]any{"role": "assistant", "content": ""}, nil)) {
		return
	}
	for _, piece := range cfg.textChunks() {
		if !s.contentEvent("", c.delta(map[string]any{"content": piece}, nil)) {
			return
		}
	}
	if !o.streamToolCalls(s, c, cfg) || !s.event("", c.delta(map[string]any{}, cfg.finishReason())) {
		return
	}
	if o.variant == Azure && !s.event("", c.chunk(azureTrailingChoice())) {
		return
	}
	o.finishStream(s, c, cfg, includeUsage)
}

// streamToolCalls sends each call's header chunk, then argument fragments
// that carry only index + arguments.
func (o *openaiFamily) streamToolCalls(s *streamer, c chunker, cfg Config) bool {
	for i, call := range o.toolCalls(cfg, true) {
		if !s.event("", c.delta(map[string]any{"tool_calls": []any{call}}, nil)) {
			return false
		}
		for _, frag := range splitN(cfg.ToolCalls[i].Arguments, cfg.ToolArgChunks) {
			delta := map[string]any{"tool_calls": []any{map[string]any{"index": i,
				"function": map[string]any{"arguments": frag}}}}
			if !s.contentEvent("", c.delta(delta, nil)) {
				return false
			}
		}
	}
	return true
}

func (o *openaiFamily) finishStream(s *streamer, c chunker, cfg Config, includeUsage bool) {
	if includeUsage && !s.event("", c.usageChunk(cfg.Usage)) {
		return
	}
	if s.raw("data: [DONE]\n\n") {
		s.done()
	}
}

// streamCompletions streams a legacy text_completion.
func (o *openaiFamily) streamCompletions(ex *exchange, model string, includeUsage bool) {
	cfg := ex.cfg
	c := newChunker(fmt.Sprintf("cmpl-fake%06d", ex.entry.Seq), "text_completion", model, includeUsage)
	s := ex.startStream(false)
	choice := func(text string, finish any) map[string]any {
		return c.chunk(map[string]any{"text": text, "index": 0, "logprobs": nil, "finish_reason": finish})
	}
	for _, piece := range cfg.textChunks() {
		if !s.contentEvent("", choice(piece, nil)) {
			return
		}
	}
	if s.event("", choice("", cfg.finishReason())) {
		o.finishStream(s, c, cfg, includeUsage)
	}
}

// registerAzure mounts the classic deployment routes and the v1 surface.
func (o *openaiFamily) registerAzure(mux *http.ServeMux) {
	classic := func(fn func(*exchange)) http.HandlerFunc {
		return handle(func(ex *exchange) {
			if ex.r.URL.Query().Get("api-version") == "" {
				o.responseHeaders(ex)
				o.notFound(ex) // Azure answers a missing api-version with 404 Resource not found
				return
			}
			fn(ex)
		})
	}
	mux.HandleFunc("POST /openai/deployments/{deployment}/chat/completions", classic(o.chat))
	mux.HandleFunc("POST /openai/deployments/{deployment}/completions", classic(o.completions))
	mux.HandleFunc("POST /openai/deployments/{deployment}/embeddings", classic(o.embeddings))
	mux.HandleFunc("GET /openai/v1/models", handle(o.listModels))
	mux.HandleFunc("GET /openai/v1/models/{id...}", handle(o.getModel))
	mux.HandleFunc("POST /openai/v1/chat/completions", handle(o.chat))
	mux.HandleFunc("POST /openai/v1/completions", handle(o.completions))
	mux.HandleFunc("POST /openai/v1/embeddings", handle(o.embeddings))
	mux.HandleFunc("/", handle(o.notFound))
}

// azureChoice adds Azure's per-choice content filter annotations.
func (o *openaiFamily) azureChoice(choice map[string]any) {
	if o.variant == Azure {
		choice["content_filter_results"] = azureFilterResults()
	}
}

func azureFilterResults() map[string]any {
	safe := map[string]any{"filtered": false, "severity": "safe"}
	return map[string]any{"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe}
}

func azurePromptFilter() []any {
	results := azureFilterResults()
	results["jailbreak"] = map[string]any{"filtered": false, "detected": false}
	return []any{map[string]any{"prompt_index": 0, "content_filter_results": results}}
}

// azureFilterChunk is the quirky first Azure chunk: no choices, empty ids.
func azureFilterChunk() map[string]any {
	return map[string]any{"choices": []any{}, "created": 0, "id": "", "model": "", "object": "",
		"prompt_filter_results": azurePromptFilter()}
}

// azureTrailingChoice is Azure's delta-less trailing choice.
func azureTrailingChoice() map[string]any {
	return map[string]any{"index": 0, "finish_reason": nil, "content_filter_results": azureFilterResults(),
		"content_filter_offsets": map[string]int{"check_offset": 0, "start_offset": 0, "end_offset": 64}}
}
