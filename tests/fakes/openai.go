package fakes

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// openaiFamily serves the OpenAI wire format for OpenAI itself and the
// variants that differ in routes, auth and error bodies (vLLM, NIM, Azure).
type openaiFamily struct{ variant Protocol }

func (o *openaiFamily) register(mux *http.ServeMux) {
	if o.variant == Azure {
		o.registerAzure(mux)
		return
	}
	mux.HandleFunc("GET /v1/models", handle(o.listModels))
	if o.variant != VLLM { // vLLM has no retrieve route (PROTOCOLS §1.11)
		mux.HandleFunc("GET /v1/models/{id...}", handle(o.getModel))
	}
	mux.HandleFunc("POST /v1/chat/completions", handle(o.chat))
	mux.HandleFunc("POST /v1/completions", handle(o.completions))
	mux.HandleFunc("POST /v1/embeddings", handle(o.embeddings))
	if o.variant != OpenAI {
		health := handle(o.health)
		mux.HandleFunc("GET /health", health)
		mux.HandleFunc("GET /v1/health/live", health)
		mux.HandleFunc("GET /v1/health/ready", health)
	}
	mux.HandleFunc("/", handle(o.notFound))
}

// admit checks the credential and sets the provider's response headers.
func (o *openaiFamily) admit(ex *exchange) bool {
	o.responseHeaders(ex)
	want := ex.cfg.APIKey
	if want == "" {
		return true
	}
	got, present := o.presentedKey(ex.r)
	switch {
	case !present:
		ex.fail(apiErr{Kind: KindMissingKey})
	case got != want:
		ex.fail(apiErr{Kind: KindInvalidKey, Message: maskKey(got)})
	default:
		return true
	}
	return false
}

// presentedKey extracts the credential the variant reads.
func (o *openaiFamily) presentedKey(r *http.Request) (string, bool) {
	if o.variant == Azure {
		if k := r.Header.Get("api-key"); k != "" {
			return k, true
		}
		if strings.HasPrefix(r.URL.Path, "/openai/deployments/") {
			return "", false // classic surface: api-key (or an Entra token) only
		}
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", false
	}
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return auth, true
	}
	return key, true
}

func (o *openaiFamily) responseHeaders(ex *exchange) {
	h := ex.w.Header()
	id := fmt.Sprintf("req_fake%06d", ex.entry.Seq)
	switch o.variant {
	case OpenAI:
		h.Set("x-request-id", id)
		h.Set("openai-version", "2020-10-01")
		h.Set("openai-processing-ms", "1")
		h.Set("x-ratelimit-limit-requests", "10000")
		h.Set("x-ratelimit-remaining-requests", "9999")
		h.Set("x-ratelimit-reset-requests", "6ms")
		h.Set("x-ratelimit-limit-tokens", "30000000")
		h.Set("x-ratelimit-remaining-tokens", "29999000")
		h.Set("x-ratelimit-reset-tokens", "2ms")
	case Azure:
		h.Set("apim-request-id", id)
		h.Set("x-request-id", id)
		h.Set("x-ms-region", "Sweden Central")
		h.Set("x-ratelimit-remaining-requests", "999")
		h.Set("x-ratelimit-remaining-tokens", "99000")
	case NIM:
		h.Set("nvcf-reqid", id)
	}
}

func (o *openaiFamily) health(ex *exchange) {
	if strings.HasSuffix(ex.r.URL.Path, "/ready") {
		ex.writeJSON(http.StatusOK, map[string]any{"object": "health.response", "message": "Service is ready."})
		return
	}
	ex.writeRaw(http.StatusOK, "application/json", []byte("{}"))
}

func (o *openaiFamily) listModels(ex *exchange) {
	if !o.admit(ex) {
		return
	}
	data := make([]map[string]any, 0, len(ex.cfg.Models))
	for _, m := range ex.cfg.Models {
		data = append(data, o.modelCard(m))
	}
	ex.writeJSON(http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (o *openaiFamily) getModel(ex *exchange) {
	if !o.admit(ex) {
		return
	}
	id := ex.r.PathValue("id")
	if id == "" {
		o.listModels(ex)
		return
	}
	ex.note(id, false)
	if !ex.cfg.hasModel(id) {
		ex.fail(apiErr{Kind: KindModelNotFound, Message: id})
		return
	}
	ex.writeJSON(http.StatusOK, o.modelCard(id))
}

// modelCard is the variant's Model object.
func (o *openaiFamily) modelCard(id string) map[string]any {
	card := map[string]any{"id": id, "object": "model", "created": 1715367049, "owned_by": "openai"}
	switch o.variant {
	case VLLM:
		card["owned_by"] = "vllm"
		card["root"], card["parent"], card["max_model_len"] = id, nil, 8192
		card["permission"] = []map[string]any{{"id": "modelperm-fake", "object": "model_permission",
			"created": 1715367049, "allow_sampling": true, "allow_view": true, "organization": "*", "is_blocking": false}}
	case NIM:
		owner, _, found := strings.Cut(id, "/")
		if !found {
			owner = "nvidia"
		}
		card["owned_by"] = owner
	case Azure:
		card["owned_by"] = "system"
	}
	return card
}

func (o *openaiFamily) notFound(ex *exchange) {
	if o.variant == VLLM {
		ex.writeJSON(http.StatusNotFound, map[string]string{"detail": "Not Found"})
		ex.finish(OutcomeError)
		return
	}
	if o.variant == Azure {
		ex.writeJSON(http.StatusNotFound, map[string]any{"error": map[string]string{"code": "404", "message": "Resource not found"}})
		ex.finish(OutcomeError)
		return
	}
	ex.fail(apiErr{Kind: KindBadRequest, Status: http.StatusNotFound,
		Message: fmt.Sprintf("Invalid URL (%s %s)", ex.r.Method, ex.r.URL.Path)})
}

// openaiRequest is the part of a chat/completions/embeddings body the fake reads.
type openaiRequest struct {
	Model         string            `json:"model"`
	Messages      []json.RawMessage `json:"messages"`
	Prompt        json.RawMessage   `json:"prompt"`
	Input         json.RawMessage   `json:"input"`
	Stream        bool              `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	EncodingFormat string `json:"encoding_format"`
}

func (r openaiRequest) includeUsage() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

// begin runs the checks every inference call shares and returns the
// request and the model it addresses.
func (o *openaiFamily) begin(ex *exchange) (openaiRequest, string, bool) {
	var req openaiRequest
	if !o.admit(ex) || !ex.decode(&req) {
		return req, "", false
	}
	model := req.Model
	if dep := ex.r.PathValue("deployment"); dep != "" {
		model = dep // Azure classic: the path selects the model; body model is ignored
	}
	ex.note(model, req.Stream)
	switch {
	case model == "":
		ex.fail(apiErr{Kind: KindBadRequest, Message: "you must provide a model parameter"})
	case !ex.cfg.hasModel(model):
		ex.fail(apiErr{Kind: KindModelNotFound, Message: model})
	default:
		return req, model, true
	}
	return req, "", false
}

func (o *openaiFamily) chat(ex *exchange) {
	req, model, ok := o.begin(ex)
	if !ok {
		return
	}
	if len(req.Messages) == 0 {
		ex.fail(apiErr{Kind: KindBadRequest, Message: "[] is too short - 'messages'", Param: "messages"})
		return
	}
	if req.Stream {
		o.streamChat(ex, model, req.includeUsage())
		return
	}
	ex.writeJSON(http.StatusOK, o.chatCompletion(ex, model))
	ex.completed(ex.cfg.Usage)
}

// chatCompletion is the non-streamed chat.completion body.
func (o *openaiFamily) chatCompletion(ex *exchange, model string) map[string]any {
	cfg := ex.cfg
	var content any // JSON null when the model only calls tools
	if text := cfg.answerText(); text != "" {
		content = text
	}
	msg := map[string]any{"role": "assistant", "content": content, "refusal": nil, "annotations": []any{}}
	if calls := o.toolCalls(cfg, false); len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	choice := map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": cfg.finishReason()}
	o.azureChoice(choice)
	body := map[string]any{
		"id": chatID(ex), "object": "chat.completion", "created": time.Now().Unix(), "model": model,
		"choices": []any{choice}, "usage": openaiUsage(cfg.Usage), "system_fingerprint": "fp_fake",
	}
	if o.variant == OpenAI {
		body["service_tier"] = "default"
	}
	if o.variant == Azure {
		body["prompt_filter_results"] = azurePromptFilter()
	}
	return body
}

// toolCalls renders the configured calls; indexed adds the stream index.
func (o *openaiFamily) toolCalls(cfg Config, indexed bool) []map[string]any {
	out := make([]map[string]any, 0, len(cfg.ToolCalls))
	for i, tc := range cfg.ToolCalls {
		call := map[string]any{"id": toolCallID(i), "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}
		if indexed {
			call["index"] = i
			call["function"] = map[string]any{"name": tc.Name, "arguments": ""}
		}
		out = append(out, call)
	}
	return out
}

func chatID(ex *exchange) string { return fmt.Sprintf("chatcmpl-fake%06d", ex.entry.Seq) }

func toolCallID(i int) string { return fmt.Sprintf("call_fake%02d", i) }

// openaiUsage is the CompletionUsage object for u.
func openaiUsage(u Usage) map[string]any {
	return map[string]any{
		"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Total(),
		"prompt_tokens_details": map[string]int{"cached_tokens": u.Cached, "audio_tokens": 0},
		"completion_tokens_details": map[string]int{"reasoning_tokens": u.Reasoning, "audio_tokens": 0,
			"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

func (o *openaiFamily) completions(ex *exchange) {
	req, model, ok := o.begin(ex)
	if !ok {
		return
	}
	if len(req.Prompt) == 0 {
		ex.fail(apiErr{Kind: KindBadRequest, Message: "you must provide a prompt parameter", Param: "prompt"})
		return
	}
	if req.Stream {
		o.streamCompletions(ex, model, req.includeUsage())
		return
	}
	ex.writeJSON(http.StatusOK, map[string]any{
		"id": fmt.Sprintf("cmpl-fake%06d", ex.entry.Seq), "object": "text_completion", "created": time.Now().Unix(),
		"model": model, "usage": openaiUsage(ex.cfg.Usage),
		"choices": []any{map[string]any{"text": ex.cfg.answerText(), "index": 0, "logprobs": nil,
			"finish_reason": ex.cfg.finishReason()}},
	})
	ex.completed(ex.cfg.Usage)
}

func (o *openaiFamily) embeddings(ex *exchange) {
	req, model, ok := o.begin(ex)
	if !ok {
		return
	}
	n, valid := countInputs(req.Input)
	if !valid {
		ex.fail(apiErr{Kind: KindBadRequest, Message: "'input' is a required property", Param: "input"})
		return
	}
	data := make([]map[string]any, n)
	for i := range data {
		var vec any = embeddingVector(i, ex.cfg.EmbeddingDims)
		if req.EncodingFormat == "base64" {
			vec = base64Floats(embeddingVector(i, ex.cfg.EmbeddingDims))
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": vec}
	}
	ex.writeJSON(http.StatusOK, map[string]any{"object": "list", "model": model, "data": data,
		"usage": map[string]int{"prompt_tokens": ex.cfg.Usage.Prompt, "total_tokens": ex.cfg.Usage.Prompt}})
	ex.completed(Usage{Prompt: ex.cfg.Usage.Prompt})
}

// countInputs counts the embedding inputs of the union string | []string |
// []int | [][]int.
func countInputs(raw json.RawMessage) (int, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return 1, one != ""
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		return 0, false
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil {
		return 1, true // one pre-tokenized input
	}
	return len(many), true
}

// embeddingVector is a deterministic vector for input i.
func embeddingVector(i, dims int) []float32 {
	v := make([]float32, dims)
	for j := range v {
		v[j] = float32(i+1) / float32(j+2)
	}
	return v
}

// base64Floats encodes v as base64 little-endian float32s, as OpenAI does.
func base64Floats(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(buf)
}
