package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Fake upstreams that answer the probe endpoints the way each provider does,
// with the bodies and headers recorded in PROTOCOLS.md (§1.6, §1.11, §2.7,
// §2.9, §3.6, §3.7, §4.3, §8). They check credentials in the provider's own
// header, so a probe that sends the wrong header fails here as it would there.

const (
	validKey = "sk-test-VALIDKEY-0123456789abcdef"
	wrongKey = "sk-test-WRONGKEY-9876543210fedcba"
)

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// maskKey masks a key the way OpenAI's 401 message does.
func maskKey(key string) string {
	return key[:8] + strings.Repeat("*", len(key)-12) + key[len(key)-4:]
}

// openAIFake is api.openai.com: per-model retrieve, list, Bearer auth.
type openAIFake struct {
	key     string
	models  []string
	echoKey bool // echo the full presented key in the 401 message
}

func (f openAIFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	presented := strings.TrimPrefix(auth, "Bearer ")
	switch {
	case auth == "":
		writeJSON(w, 401, `{"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).","type":"invalid_request_error","param":null,"code":null}}`)
		return
	case presented != f.key:
		shown := maskKey(presented)
		if f.echoKey {
			shown = presented
		}
		writeJSON(w, 401, fmt.Sprintf(`{"error":{"message":"Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, shown))
		return
	}
	serveOpenAIModels(w, r, f.models, true)
}

// serveOpenAIModels answers GET /v1/models and, when perModel is set,
// GET /v1/models/{id...}; everything else is FastAPI's 404.
func serveOpenAIModels(w http.ResponseWriter, r *http.Request, models []string, perModel bool) {
	id, isRetrieve := strings.CutPrefix(r.URL.Path, "/v1/models/")
	switch {
	case r.URL.Path == "/v1/models":
		data := make([]map[string]any, len(models))
		for i, m := range models {
			data[i] = map[string]any{"id": m, "object": "model", "created": 1715367049, "owned_by": "vllm"}
		}
		body, _ := json.Marshal(map[string]any{"object": "list", "data": data})
		writeJSON(w, 200, string(body))
	case isRetrieve && perModel && contains(models, id):
		writeJSON(w, 200, fmt.Sprintf(`{"id":%q,"object":"model","created":1686935002,"owned_by":"openai"}`, id))
	case isRetrieve && perModel:
		writeJSON(w, 404, fmt.Sprintf(`{"error":{"message":"The model %s does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}`, id))
	default:
		writeJSON(w, 404, `{"detail":"Not Found"}`)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// vllmFake is `vllm serve`: only GET /v1/models, auth only with --api-key.
type vllmFake struct {
	apiKey string // "" = started without --api-key
	served []string
}

func (f vllmFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+f.apiKey {
		writeJSON(w, 401, `{"error":"Unauthorized"}`)
		return
	}
	serveOpenAIModels(w, r, f.served, false)
}

// nimHostedFake is integrate.api.nvidia.com: RFC 7807 problems, 403 for a
// bad key, 401 for a missing header.
type nimHostedFake struct{ key string }

func (f nimHostedFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		writeJSON(w, 401, `{"status":401,"title":"Unauthorized","detail":"Header of type authorization was missing"}`)
	case auth != "Bearer "+f.key:
		writeJSON(w, 403, `{"status":403,"title":"Forbidden","detail":"Authorization failed"}`)
	default:
		serveOpenAIModels(w, r, []string{"meta/llama-3.1-8b-instruct"}, true)
	}
}

// anthropicFake is api.anthropic.com's models endpoints.
type anthropicFake struct {
	key            string
	models         []string
	creditsLow     bool // answer the billing 400 for a valid key
	permissionDeny bool // answer 403 permission_error for a valid key
}

func anthropicError(w http.ResponseWriter, status int, kind, message string) {
	writeJSON(w, status, fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_011CTest"}`, kind, message))
}

func (f anthropicFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != f.key {
		anthropicError(w, 401, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		anthropicError(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	id, _ := strings.CutPrefix(r.URL.Path, "/v1/models/")
	switch {
	case f.creditsLow:
		anthropicError(w, 400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")
	case f.permissionDeny:
		anthropicError(w, 403, "permission_error", "Your API key does not have permission to use the specified resource.")
	case contains(f.models, id):
		writeJSON(w, 200, fmt.Sprintf(`{"type":"model","id":%q,"display_name":"Claude","created_at":"2025-09-29T00:00:00Z"}`, id))
	default:
		anthropicError(w, 404, "not_found_error", "model: "+id)
	}
}

// geminiFake is generativelanguage.googleapis.com v1beta models.
type geminiFake struct {
	key     string
	methods map[string][]string // model id -> supportedGenerationMethods
}

func (f geminiFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	presented := r.Header.Get("X-Goog-Api-Key")
	switch {
	case presented == "":
		writeJSON(w, 403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.","status":"PERMISSION_DENIED"}}`)
		return
	case presented != f.key:
		writeJSON(w, 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`)
		return
	}
	id, _ := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	methods, ok := f.methods[id]
	if !ok {
		writeJSON(w, 404, fmt.Sprintf(`{"error":{"code":404,"message":"models/%s is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.","status":"NOT_FOUND"}}`, id))
		return
	}
	body, _ := json.Marshal(map[string]any{"name": "models/" + id, "version": "001", "displayName": id,
		"inputTokenLimit": 1048576, "outputTokenLimit": 65536, "supportedGenerationMethods": methods})
	writeJSON(w, 200, string(body))
}

// azureFake is a classic Azure OpenAI resource: api-key header, deployment in
// the path, api-version required, 400 for an empty conversation.
type azureFake struct {
	key         string
	deployments []string
}

func (f azureFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Api-Key") != f.key {
		writeJSON(w, 401, `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
	deployment, op, _ := strings.Cut(rest, "/")
	if r.URL.Path == "/openai/v1/chat/completions" {
		var body struct {
			Model string `json:"model"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		deployment, op, ok = body.Model, "chat/completions", true
	} else if r.URL.Query().Get("api-version") == "" {
		writeJSON(w, 404, `{"error":{"code":"404","message":"Resource not found"}}`)
		return
	}
	switch {
	case !ok || op != "chat/completions" || r.Method != http.MethodPost:
		writeJSON(w, 404, `{"error":{"code":"404","message":"Resource not found"}}`)
	case !contains(f.deployments, deployment):
		writeJSON(w, 404, `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}`)
	default:
		writeJSON(w, 400, `{"error":{"message":"[] is too short - 'messages'","type":"invalid_request_error","param":null,"code":null}}`)
	}
}

// cannedFake authenticates like OpenAI (so the key check can tell) and then
// answers every request with one fixed status, headers and body.
type cannedFake struct {
	status int
	header map[string]string
	body   string
}

func (f cannedFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+validKey {
		writeJSON(w, 401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		return
	}
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	writeJSON(w, f.status, f.body)
}

// seenRequest is what a recorder saw; it proves which endpoints a probe hit.
type seenRequest struct {
	Method, EscapedPath, Query, Body string
}

// recorder wraps a fake and remembers every request it served.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	seen []seenRequest
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.seen = append(rec.seen, seenRequest{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body)})
	rec.mu.Unlock()
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) requests() []seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seenRequest(nil), rec.seen...)
}

// startFake serves h on a real loopback listener for the test's lifetime.
func startFake(t *testing.T, h http.Handler) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{next: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

// productionLikeClient does what pkg/outbound's client does that matters
// here: it never follows redirects.
func productionLikeClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
