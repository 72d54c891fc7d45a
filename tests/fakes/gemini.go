package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// geminiDialect serves the Gemini API v1beta (PROTOCOLS.md §3).
type geminiDialect struct{}

func (g geminiDialect) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1beta/models", handle(g.listModels))
	mux.HandleFunc("/v1beta/models/{rest...}", handle(g.modelRoute))
	mux.HandleFunc("/", handle(func(ex *exchange) {
		ex.fail(apiErr{Kind: KindModelNotFound, Message: "Method not found."})
	}))
}

// admit reads x-goog-api-key (or ?key=): no key is 403, a wrong key 400.
func (g geminiDialect) admit(ex *exchange) bool {
	want := ex.cfg.APIKey
	if want == "" {
		return true
	}
	key := ex.r.Header.Get("x-goog-api-key")
	if key == "" {
		key = ex.r.URL.Query().Get("key")
	}
	switch key {
	case want:
		return true
	case "":
		ex.fail(apiErr{Kind: KindMissingKey})
	default:
		ex.fail(apiErr{Kind: KindInvalidKey})
	}
	return false
}

func (g geminiDialect) modelInfo(id string) map[string]any {
	methods := []string{"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"}
	if strings.Contains(id, "embedding") {
		methods = []string{"embedContent", "countTextTokens", "countTokens"}
	}
	return map[string]any{"name": "models/" + id, "version": "001", "displayName": id,
		"description": "Fake " + id, "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
		"supportedGenerationMethods": methods, "temperature": 1, "maxTemperature": 2, "topP": 0.95, "topK": 64,
		"thinking": !strings.Contains(id, "embedding")}
}

func (g geminiDialect) listModels(ex *exchange) {
	if !g.admit(ex) {
		return
	}
	models := make([]map[string]any, 0, len(ex.cfg.Models))
	for _, m := range ex.cfg.Models {
		models = append(models, g.modelInfo(m))
	}
	ex.writeJSON(http.StatusOK, map[string]any{"models": models})
}

// modelRoute dispatches models/{model} and models/{model}:{method}.
func (g geminiDialect) modelRoute(ex *exchange) {
	model, method, _ := strings.Cut(ex.r.PathValue("rest"), ":")
	ex.note(model, method == "streamGenerateContent")
	if !g.admit(ex) {
		return
	}
	handlers := map[string]func(*exchange, string){
		"GET ":                       g.getModel,
		"POST generateContent":       g.generate,
		"POST streamGenerateContent": g.generate,
		"POST countTokens":           g.countTokens,
		"POST embedContent":          g.embed,
		"POST batchEmbedContents":    g.embed,
	}
	h, ok := handlers[ex.r.Method+" "+method]
	switch {
	case !ok:
		ex.fail(apiErr{Kind: KindModelNotFound, Message: "Method not found."})
	case !ex.cfg.hasModel(model):
		ex.fail(apiErr{Kind: KindModelNotFound, Message: fmt.Sprintf("models/%s is not found for API version "+
			"v1beta, or is not supported for %s. Call ListModels to see the list of available models and their "+
			"supported methods.", model, orDefault(method, "generateContent"))})
	default:
		h(ex, model)
	}
}

func (g geminiDialect) getModel(ex *exchange, model string) {
	ex.writeJSON(http.StatusOK, g.modelInfo(model))
}

func (g geminiDialect) countTokens(ex *exchange, _ string) {
	ex.writeJSON(http.StatusOK, map[string]int{"totalTokens": ex.cfg.Usage.Prompt})
}

func (g geminiDialect) generate(ex *exchange, model string) {
	var req geminiRequest
	if !ex.decode(&req) {
		return
	}
	if msg := req.validate(); msg != "" {
		ex.fail(apiErr{Kind: KindBadRequest, Message: msg})
		return
	}
	if strings.HasSuffix(ex.r.URL.Path, ":streamGenerateContent") {
		g.stream(ex, model)
		return
	}
	cand := map[string]any{"content": map[string]any{"role": "model", "parts": g.parts(ex.cfg)},
		"finishReason": geminiFinish(ex.cfg.finishReason()), "index": 0}
	ex.writeJSON(http.StatusOK, map[string]any{"candidates": []any{cand},
		"usageMetadata": geminiUsage(ex.cfg.Usage, ex.cfg.Usage.Completion-ex.cfg.Usage.Reasoning),
		"modelVersion":  model, "responseId": responseID(ex)})
	ex.completed(ex.cfg.Usage)
}

func responseID(ex *exchange) string { return fmt.Sprintf("fakeresp%06d", ex.entry.Seq) }

// parts is the whole answer: thought, text, functionCall parts.
func (g geminiDialect) parts(cfg Config) []map[string]any {
	var parts []map[string]any
	if cfg.Thinking != "" {
		parts = append(parts, map[string]any{"text": cfg.Thinking, "thought": true})
	}
	if text := cfg.answerText(); text != "" {
		parts = append(parts, map[string]any{"text": text})
	}
	return append(parts, functionCallParts(cfg)...)
}

func functionCallParts(cfg Config) []map[string]any {
	var parts []map[string]any
	for _, tc := range cfg.ToolCalls {
		parts = append(parts, map[string]any{"functionCall": map[string]any{"name": tc.Name, "args": jsonObject(tc.Arguments)}})
	}
	return parts
}

func geminiFinish(finish string) string {
	switch finish {
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	default:
		return "STOP" // Gemini reports function calls with STOP
	}
}

// geminiUsage encodes u with the given candidates count so far; prompt
// includes cached tokens and total includes thoughts, as Gemini counts.
func geminiUsage(u Usage, candidates int) map[string]any {
	usage := map[string]any{"promptTokenCount": u.Prompt, "candidatesTokenCount": candidates,
		"totalTokenCount":     u.Prompt + candidates + u.Reasoning,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": u.Prompt}}}
	if u.Reasoning > 0 {
		usage["thoughtsTokenCount"] = u.Reasoning
	}
	if u.Cached > 0 {
		usage["cachedContentTokenCount"] = u.Cached
	}
	return usage
}

// stream writes alt=sse chunks with CRLF framing, text deltas, complete
// functionCall parts, cumulative usageMetadata and finishReason on the
// last candidate chunk; the stream ends at EOF (no [DONE]).
func (g geminiDialect) stream(ex *exchange, model string) {
	cfg := ex.cfg
	s := ex.startStream(true)
	parts := g.streamParts(cfg)
	candidates := cfg.Usage.Completion - cfg.Usage.Reasoning
	for i, part := range parts {
		cand := map[string]any{"content": map[string]any{"role": "model", "parts": part}, "index": 0}
		if i == len(parts)-1 {
			cand["finishReason"] = geminiFinish(cfg.finishReason())
		}
		soFar := candidates * (i + 1) / len(parts)
		if cfg.GeminiUsageChunk && i == len(parts)-1 {
			soFar = candidates * i / len(parts) // the usage-only chunk completes it
		}
		chunk := map[string]any{"candidates": []any{cand}, "usageMetadata": geminiUsage(cfg.Usage, soFar),
			"modelVersion": model, "responseId": responseID(ex)}
		if !s.contentEvent("", chunk) {
			return
		}
	}
	if cfg.GeminiUsageChunk && !s.event("", map[string]any{"usageMetadata": geminiUsage(cfg.Usage, candidates),
		"modelVersion": model, "responseId": responseID(ex)}) {
		return
	}
	s.done()
}

// streamParts is the parts of each chunk: thought pieces, text pieces, and
// all function calls together in one chunk.
func (g geminiDialect) streamParts(cfg Config) [][]map[string]any {
	var chunks [][]map[string]any
	if cfg.Thinking != "" {
		for _, piece := range splitN(cfg.Thinking, cfg.Chunks) {
			chunks = append(chunks, []map[string]any{{"text": piece, "thought": true}})
		}
	}
	for _, piece := range cfg.textChunks() {
		chunks = append(chunks, []map[string]any{{"text": piece}})
	}
	if calls := functionCallParts(cfg); len(calls) > 0 {
		chunks = append(chunks, calls)
	}
	if len(chunks) == 0 {
		chunks = append(chunks, []map[string]any{{"text": ""}})
	}
	return chunks
}

// embed answers embedContent and batchEmbedContents.
func (g geminiDialect) embed(ex *exchange, _ string) {
	var req struct {
		Content  *geminiContent `json:"content"`
		Requests []struct {
			Content *geminiContent `json:"content"`
		} `json:"requests"`
	}
	if !ex.decode(&req) {
		return
	}
	dims := ex.cfg.EmbeddingDims
	if strings.HasSuffix(ex.r.URL.Path, ":embedContent") {
		if req.Content == nil || len(req.Content.Parts) == 0 {
			ex.fail(apiErr{Kind: KindBadRequest, Message: "* EmbedContentRequest.content: contents is not specified\n"})
			return
		}
		ex.writeJSON(http.StatusOK, map[string]any{"embedding": map[string]any{"values": embeddingVector(0, dims)}})
		ex.completed(Usage{})
		return
	}
	if len(req.Requests) == 0 {
		ex.fail(apiErr{Kind: KindBadRequest, Message: "* BatchEmbedContentsRequest.requests: requests is not specified\n"})
		return
	}
	out := make([]map[string]any, len(req.Requests))
	for i := range out {
		out[i] = map[string]any{"values": embeddingVector(i, dims)}
	}
	ex.writeJSON(http.StatusOK, map[string]any{"embeddings": out})
	ex.completed(Usage{})
}

// geminiErrors maps each condition to HTTP status, canonical status and message.
var geminiErrors = map[ErrorKind]struct {
	status   int
	rpc, msg string
}{
	KindBadRequest: {400, "INVALID_ARGUMENT", "Request contains an invalid argument."},
	KindMissingKey: {403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without " +
		"established identity). Please use API Key or other form of API consumer identity to call this API."},
	KindInvalidKey:    {400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."},
	KindPermission:    {403, "PERMISSION_DENIED", "The caller does not have permission"},
	KindModelNotFound: {404, "NOT_FOUND", "Requested entity was not found."},
	KindRateLimit: {429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and " +
		"billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."},
	KindServer: {500, "INTERNAL", "An internal error has occurred. Please retry or report in " +
		"https://developers.generativeai.google/guide/troubleshooting"},
	KindOverloaded: {503, "UNAVAILABLE", "The model is overloaded. Please try again later."},
}

func (g geminiDialect) renderError(ex *exchange, e apiErr) {
	ex.writeJSON(orStatus(e.Status, geminiErrors[geminiKind(e.Kind)].status), geminiError(e))
}

// geminiKind folds quota into RESOURCE_EXHAUSTED.
func geminiKind(k ErrorKind) ErrorKind {
	if k == KindQuota {
		return KindRateLimit
	}
	return k
}

func orStatus(status, def int) int {
	if status != 0 {
		return status
	}
	return def
}

// geminiError is the google.rpc.Status body with the details Gemini sends.
func geminiError(e apiErr) map[string]any {
	spec := geminiErrors[geminiKind(e.Kind)]
	msg := spec.msg
	if e.Message != "" && e.Kind != KindInvalidKey && e.Kind != KindMissingKey {
		msg = e.Message
	}
	body := map[string]any{"code": orStatus(e.Status, spec.status), "message": msg, "status": spec.rpc}
	switch e.Kind {
	case KindInvalidKey:
		body["details"] = []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "API_KEY_INVALID", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "generativelanguage.googleapis.com"}}}
	case KindRateLimit, KindQuota:
		body["details"] = quotaDetails(e)
	}
	return map[string]any{"error": body}
}

// quotaDetails: per-minute quota with RetryInfo for a rate limit, per-day
// quota without it for KindQuota.
func quotaDetails(e apiErr) []any {
	quotaID := "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
	if e.Kind == KindQuota {
		quotaID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
	}
	details := []any{map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
		"violations": []any{map[string]any{
			"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
			"quotaId":     quotaID, "quotaDimensions": map[string]string{"location": "global"}}}}}
	if e.Kind == KindRateLimit {
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo",
			"retryDelay": orDefault(e.RetryAfter, "1") + "s"})
	}
	return details
}

// streamError writes a bare JSON error object, not a data: line, as the
// Gemini stream does.
func (g geminiDialect) streamError(s *streamer, kind ErrorKind) {
	data, _ := json.Marshal(geminiError(apiErr{Kind: kind}))
	s.raw(string(data) + s.eol + s.eol)
}
