package fakes

// blockWriter emits the content blocks of one Anthropic stream with
// contiguous indices, as the Anthropic SDK requires.
type blockWriter struct {
	s     *streamer
	index int
}

func (b *blockWriter) start(block map[string]any) bool {
	return b.s.event("content_block_start", map[string]any{"type": "content_block_start", "index": b.index,
		"content_block": block})
}

// delta sends one content_block_delta; content deltas go through the
// stream knobs (delay, stall, drop, error).
func (b *blockWriter) delta(delta map[string]any, content bool) bool {
	payload := map[string]any{"type": "content_block_delta", "index": b.index, "delta": delta}
	if content {
		return b.s.contentEvent("content_block_delta", payload)
	}
	return b.s.event("content_block_delta", payload)
}

func (b *blockWriter) stop() bool {
	ok := b.s.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": b.index})
	b.index++
	return ok
}

// stream writes message_start, ping, the thinking/text/tool_use blocks,
// message_delta with cumulative usage, and message_stop.
func (a anthropicDialect) stream(ex *exchange, model string) {
	cfg := ex.cfg
	s := ex.startStream(false)
	startUsage := anthropicInput(cfg.Usage)
	startUsage["output_tokens"] = 1 // provisional, as Anthropic sends it
	message := map[string]any{"id": messageID(ex), "type": "message", "role": "assistant", "model": model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": startUsage}
	if !s.event("message_start", map[string]any{"type": "message_start", "message": message}) ||
		!s.event("ping", map[string]any{"type": "ping"}) {
		return
	}
	b := &blockWriter{s: s}
	if !a.streamThinking(b, cfg) || !a.streamText(b, cfg) || !a.streamTools(b, cfg) {
		return
	}
	finalUsage := anthropicInput(cfg.Usage)
	finalUsage["output_tokens"] = cfg.Usage.Completion
	delta := map[string]any{"type": "message_delta", "usage": finalUsage,
		"delta": map[string]any{"stop_reason": anthropicStopReason(cfg.finishReason()), "stop_sequence": nil}}
	if s.event("message_delta", delta) && s.event("message_stop", map[string]any{"type": "message_stop"}) {
		s.done()
	}
}

func (a anthropicDialect) streamThinking(b *blockWriter, cfg Config) bool {
	if cfg.Thinking == "" {
		return true
	}
	if !b.start(map[string]any{"type": "thinking", "thinking": "", "signature": ""}) {
		return false
	}
	for _, piece := range splitN(cfg.Thinking, cfg.Chunks) {
		if !b.delta(map[string]any{"type": "thinking_delta", "thinking": piece}, true) {
			return false
		}
	}
	return b.delta(map[string]any{"type": "signature_delta", "signature": "sig_fake"}, false) && b.stop()
}

func (a anthropicDialect) streamText(b *blockWriter, cfg Config) bool {
	pieces := cfg.textChunks()
	if len(pieces) == 0 {
		return true
	}
	if !b.start(map[string]any{"type": "text", "text": ""}) {
		return false
	}
	for _, piece := range pieces {
		if !b.delta(map[string]any{"type": "text_delta", "text": piece}, true) {
			return false
		}
	}
	return b.stop()
}

// streamTools sends each tool_use block with "input": {} at start and the
// arguments as input_json_delta fragments, the first one empty.
func (a anthropicDialect) streamTools(b *blockWriter, cfg Config) bool {
	for i, tc := range cfg.ToolCalls {
		block := map[string]any{"type": "tool_use", "id": toolUseID(i), "name": tc.Name, "input": map[string]any{}}
		if !b.start(block) || !b.delta(map[string]any{"type": "input_json_delta", "partial_json": ""}, false) {
			return false
		}
		for _, frag := range splitN(string(jsonObject(tc.Arguments)), cfg.ToolArgChunks) {
			if !b.delta(map[string]any{"type": "input_json_delta", "partial_json": frag}, true) {
				return false
			}
		}
		if !b.stop() {
			return false
		}
	}
	return true
}
