package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/apierr"
)

// Error is an OpenAI-normalised error: the edge status and body, plus the
// facts the router needs for retry and failover decisions.
type Error struct {
	Status  int    // edge HTTP status
	Type    string // OpenAI error.type
	Code    string // OpenAI error.code; "" renders as null
	Param   string // OpenAI error.param; "" renders as null
	Message string

	UpstreamStatus int           // 0 when raised by the gateway itself
	Retryable      bool          // transient: retry or fail over
	RetryAfter     time.Duration // from the upstream body (Gemini retryDelay), 0 if unknown
	Quota          bool          // billing or quota exhausted: do not retry this upstream
	UpstreamAuth   bool          // the upstream rejected the gateway's credential
}

func (e *Error) Error() string {
	if e.UpstreamStatus != 0 {
		return fmt.Sprintf("upstream %d → %d %s: %s", e.UpstreamStatus, e.Status, e.Type, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

// JSON renders {"error":{"message","type","param","code"}}, usable both as an
// HTTP body and as a mid-stream `data:` event.
func (e *Error) JSON() []byte {
	return apierr.OpenAIBody(e.Message, e.Type, e.Param, e.Code)
}

// AsError returns err as an *Error, wrapping any other error as a 502.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_error",
		Message: "The upstream service failed: " + redact(err.Error()), Retryable: true}
}

func invalidRequest(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param,
		Message: fmt.Sprintf(format, args...)}
}

func unsupported(param, format string, args ...any) *Error {
	e := invalidRequest(param, format, args...)
	e.Code = "unsupported_parameter"
	return e
}

// upstreamFacts is what a tolerant decode of any provider's error body yields.
type upstreamFacts struct {
	message, kind, code, param, status string
	reasons                            []string
	retryDelay                         time.Duration
	perDayQuota, perMinuteQuota        bool
}

// errorDetail and errorEnvelope hold every field as raw JSON: providers put
// numbers where others put strings (Azure "status":400, vLLM "code":404), and
// one surprising type must not lose the whole error.
type errorDetail struct {
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
	Param   json.RawMessage `json:"param"`
	Status  json.RawMessage `json:"status"`
	Details json.RawMessage `json:"details"`
}

type detailEntry struct {
	Reason     string `json:"reason"`
	RetryDelay string `json:"retryDelay"`
	Violations []struct {
		QuotaID string `json:"quotaId"`
	} `json:"violations"`
}

type errorEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Detail  json.RawMessage `json:"detail"`
	Title   json.RawMessage `json:"title"`
}

// NormalizeError converts an upstream error response of any protocol into the
// edge error (PROTOCOLS §5.8). It never trusts the body's shape.
func NormalizeError(status int, body []byte) *Error {
	f := decodeFacts(body)
	e := classify(status, f)
	e.UpstreamStatus = status
	return e
}

func decodeFacts(body []byte) upstreamFacts {
	var f upstreamFacts
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil {
		if text := strings.TrimSpace(string(body)); !strings.HasPrefix(text, "<") {
			f.message = text // plain-text bodies are kept; HTML error pages are not
		}
		return f
	}
	f.message = firstNonEmpty(jsonString(env.Detail), jsonString(env.Message), jsonString(env.Title))
	f.kind = jsonString(env.Type)
	if s := jsonString(env.Error); s != "" {
		f.message = s
		return f
	}
	var d errorDetail
	if json.Unmarshal(env.Error, &d) == nil {
		f.applyDetail(d)
	}
	return f
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func (f *upstreamFacts) applyDetail(d errorDetail) {
	f.message = firstNonEmpty(jsonString(d.Message), f.message)
	f.kind, f.code, f.param, f.status = jsonString(d.Type), jsonString(d.Code), jsonString(d.Param), jsonString(d.Status)
	var details []detailEntry
	_ = json.Unmarshal(d.Details, &details)
	for _, det := range details {
		if det.Reason != "" {
			f.reasons = append(f.reasons, det.Reason)
		}
		if delay, err := time.ParseDuration(det.RetryDelay); err == nil && delay > 0 {
			f.retryDelay = delay
		}
		for _, v := range det.Violations {
			f.perDayQuota = f.perDayQuota || strings.Contains(v.QuotaID, "PerDay")
			f.perMinuteQuota = f.perMinuteQuota || !strings.Contains(v.QuotaID, "PerDay")
		}
	}
}

// jsonString returns raw as a Go string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func (f upstreamFacts) hasReason(reason string) bool {
	for _, r := range f.reasons {
		if r == reason {
			return true
		}
	}
	return false
}

func (f upstreamFacts) isAuth(status int) bool {
	msg := strings.ToLower(f.message)
	switch status {
	case http.StatusUnauthorized:
		return true
	case http.StatusBadRequest:
		return f.hasReason("API_KEY_INVALID") || strings.Contains(msg, "api key not valid")
	case http.StatusForbidden:
		return strings.Contains(msg, "unregistered callers") || strings.Contains(msg, "authorization failed") ||
			f.hasReason("API_KEY_SERVICE_BLOCKED")
	}
	return false
}

func (f upstreamFacts) isQuota(status int) bool {
	msg := strings.ToLower(f.message)
	return status == http.StatusPaymentRequired || f.code == "insufficient_quota" || f.kind == "insufficient_quota" ||
		f.kind == "billing_error" || strings.Contains(msg, "credit balance is too low") ||
		(f.status == "FAILED_PRECONDITION" && strings.Contains(msg, "billing")) ||
		(status == http.StatusTooManyRequests && f.perDayQuota && !f.perMinuteQuota)
}

func classify(status int, f upstreamFacts) *Error {
	switch {
	case f.isAuth(status):
		return &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_authentication_failed",
			Message:      fmt.Sprintf("The upstream service rejected the gateway's credential (HTTP %d). Contact the gateway operator.", status),
			UpstreamAuth: true}
	case f.isQuota(status):
		return &Error{Status: http.StatusTooManyRequests, Type: "insufficient_quota", Code: "insufficient_quota",
			Message: f.text(status), Quota: true}
	case f.code == "content_filter":
		return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "content_filter",
			Param: f.param, Message: f.text(status)}
	}
	e := classifyByStatus(status, f)
	if e.Message == "" {
		e.Message = f.text(status)
	}
	return e
}

func classifyByStatus(status int, f upstreamFacts) *Error {
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: openAICode(f.code), Param: f.param}
	case status == http.StatusForbidden:
		return &Error{Status: http.StatusForbidden, Type: "permission_error"}
	case status == http.StatusNotFound:
		return &Error{Status: http.StatusNotFound, Type: "invalid_request_error", Code: "model_not_found"}
	case status == http.StatusRequestEntityTooLarge:
		return &Error{Status: status, Type: "invalid_request_error", Code: "request_too_large"}
	case status == http.StatusTooManyRequests:
		return &Error{Status: status, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true, RetryAfter: f.retryDelay}
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return &Error{Status: http.StatusGatewayTimeout, Type: "server_error", Code: "timeout", Retryable: true}
	case status == http.StatusInternalServerError:
		return &Error{Status: status, Type: "server_error", Retryable: true}
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == 529:
		return &Error{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "overloaded", Retryable: true}
	case status >= 400 && status < 500:
		return &Error{Status: status, Type: "invalid_request_error", Code: openAICode(f.code)}
	}
	return &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_error", Retryable: true}
}

// openAICode keeps only codes that look like OpenAI's snake_case codes, so
// Azure's "401" or Gemini's numeric codes do not leak as error.code.
func openAICode(code string) string {
	if code == "" || strings.IndexFunc(code, func(r rune) bool { return r >= '0' && r <= '9' }) == 0 {
		return ""
	}
	return code
}

const maxMessageLen = 1000

func (f upstreamFacts) text(status int) string {
	msg := redact(strings.TrimSpace(f.message))
	if msg == "" {
		msg = http.StatusText(status)
	}
	if msg == "" {
		msg = "Upstream error (HTTP " + strconv.Itoa(status) + ")"
	}
	if len(msg) > maxMessageLen {
		msg = strings.ToValidUTF8(msg[:maxMessageLen], "") + "…"
	}
	return msg
}

// keyPattern matches provider key shapes that upstream messages sometimes
// echo ("Incorrect API key provided: sk-…"); they must never reach a client.
var keyPattern = regexp.MustCompile(`(sk-[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{20,}|nvapi-[A-Za-z0-9_\-]{8,}|[A-Fa-f0-9]{32})`)

func redact(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	return keyPattern.ReplaceAllString(s, "[redacted]")
}

// anthropicStatus maps an Anthropic error type (stream `error` events carry
// no HTTP status) to the status the non-streaming API would have used.
var anthropicStatus = map[string]int{
	"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
	"permission_error": 403, "not_found_error": 404, "request_too_large": 413,
	"rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529,
}

// streamError normalises an error object received after HTTP 200 (Anthropic
// `error` event, OpenAI-family or Gemini `{"error":…}` data).
func streamError(data []byte) *Error {
	var env struct {
		Error struct {
			Type string          `json:"type"`
			Code json.RawMessage `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &env)
	status := anthropicStatus[env.Error.Type]
	if code, err := strconv.Atoi(string(bytes.Trim(env.Error.Code, `"`))); status == 0 && err == nil && code >= 400 && code < 600 {
		status = code
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	e := NormalizeError(status, data)
	e.UpstreamStatus = http.StatusOK
	return e
}
