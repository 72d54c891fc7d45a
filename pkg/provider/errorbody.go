package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// upstreamError is what the classifier needs from an error body, whatever the
// provider's shape. Providers disagree on almost everything (PROTOCOLS.md
// §1.11 rule 11), so every field is optional.
type upstreamError struct {
	Message    string   // human-readable text, untrusted and unsanitised
	Type       string   // OpenAI/Anthropic error type, vLLM exception name
	Code       string   // OpenAI/Azure code; numbers are rendered as text
	Status     string   // Google canonical status, e.g. INVALID_ARGUMENT
	Reasons    []string // Google ErrorInfo reasons, e.g. API_KEY_INVALID
	RetryDelay time.Duration
}

// wireError covers the nested "error" object of OpenAI, Anthropic, Gemini,
// Azure, OpenRouter and newer vLLM. Code is raw because it is a string at
// OpenAI and Azure but a number at Gemini, OpenRouter and vLLM.
type wireError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
	Status  string          `json:"status"`
	Details []wireDetail    `json:"details"`
}

type wireDetail struct {
	Type       string `json:"@type"`
	Reason     string `json:"reason"`
	RetryDelay string `json:"retryDelay"`
}

// wireEnvelope covers the top level: the nested error (an object, or a bare
// string as vLLM's auth middleware sends), older vLLM's flat error object,
// FastAPI's {"detail": ...} and NVIDIA's RFC 7807 problem objects.
type wireEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
	Detail  json.RawMessage `json:"detail"`
	Title   string          `json:"title"`
}

// parseErrorBody extracts what it can from body. It never fails: an empty or
// unrecognised body yields an empty upstreamError, and the classifier then
// relies on the status code alone.
func parseErrorBody(body []byte) upstreamError {
	var env wireEnvelope
	if json.Unmarshal(bytes.TrimSpace(body), &env) != nil {
		return upstreamError{}
	}
	var nested wireError
	if len(env.Error) > 0 && json.Unmarshal(env.Error, &nested) == nil {
		return fromNested(nested)
	}
	out := upstreamError{Message: env.Message, Type: env.Type, Code: rawCode(env.Code)}
	if s := rawString(env.Error); s != "" {
		out.Message = s
	}
	if out.Message == "" {
		out.Message = firstNonEmpty(rawString(env.Detail), env.Title)
	}
	return out
}

func fromNested(w wireError) upstreamError {
	out := upstreamError{Message: w.Message, Type: w.Type, Code: rawCode(w.Code), Status: w.Status}
	for _, d := range w.Details {
		if d.Reason != "" {
			out.Reasons = append(out.Reasons, d.Reason)
		}
		if delay, err := time.ParseDuration(d.RetryDelay); err == nil && delay > 0 {
			out.RetryDelay = delay
		}
	}
	return out
}

// rawCode renders a JSON string or number as text; anything else is "".
func rawCode(raw json.RawMessage) string {
	if s := rawString(raw); s != "" {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func rawString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// hasReason reports whether the Google ErrorInfo reasons include reason.
func (e upstreamError) hasReason(reason string) bool {
	for _, r := range e.Reasons {
		if r == reason {
			return true
		}
	}
	return false
}

// mentions reports whether the message contains needle, ignoring case.
func (e upstreamError) mentions(needle string) bool {
	return strings.Contains(strings.ToLower(e.Message), strings.ToLower(needle))
}

// maxRetryAfter bounds what an upstream can make us wait; a hostile or broken
// upstream asking for a year must not park a service for a year.
const maxRetryAfter = time.Hour

// RetryAfter reads how long the upstream asked us to wait: retry-after-ms
// (OpenAI and Anthropic SDK extension), then Retry-After in seconds or as an
// HTTP date, then Gemini's RetryInfo.retryDelay from the body. It returns 0
// when nothing usable is given, and never more than an hour.
func RetryAfter(h http.Header, body []byte, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms > 0 {
		return fromUnits(ms, time.Millisecond)
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			return fromUnits(secs, time.Second)
		}
		if at, err := http.ParseTime(v); err == nil && at.After(now) {
			return capRetry(at.Sub(now))
		}
	}
	return capRetry(parseErrorBody(body).RetryDelay)
}

// fromUnits converts a positive count of unit, capping in floating point so a
// huge value cannot overflow time.Duration.
func fromUnits(count float64, unit time.Duration) time.Duration {
	if count*float64(unit) >= float64(maxRetryAfter) {
		return maxRetryAfter
	}
	return capRetry(time.Duration(count * float64(unit)))
}

func capRetry(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
