package keys

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/pkg/apierr"
)

// Error is an OpenAI-shaped refusal of an edge request: 401 for a missing,
// unknown, expired or revoked key, 403 for a key that may not use a model
// or service, 429 for a source that sent too many bad keys. The edge
// answers it with Status, the headers from SetHeaders and the body from
// JSON. Messages never contain the presented key.
type Error struct {
	Status  int
	Type    string
	Code    string // "" is written as null, as OpenAI does for a missing key
	Message string
	// RetryAfter is set on 429s.
	RetryAfter time.Duration
	kind       kind
	body       []byte
}

// kind groups errors for errors.Is, independent of their message.
type kind uint8

const (
	kindMissing kind = iota + 1
	kindInvalid
	kindForbidden
	kindTooManyFailures
)

// Sentinels for errors.Is. ErrInvalidKey also matches expired and revoked
// keys; ErrForbidden matches every 403; ErrTooManyFailures every 429.
var (
	ErrMissingKey = newError(kindMissing, http.StatusUnauthorized, "invalid_request_error", "",
		"You didn't provide an API key. You need to provide your API key in an Authorization header "+
			"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). Ask your Switchyard operator for a key "+
			"(`syctl keys create`).")
	ErrInvalidKey = newError(kindInvalid, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"Incorrect API key provided. Check that you copied the whole key (it starts with \"sy-\"), "+
			"or ask your Switchyard operator for a new one.")
	ErrForbidden       = &Error{kind: kindForbidden, Status: http.StatusForbidden}
	ErrTooManyFailures = &Error{kind: kindTooManyFailures, Status: http.StatusTooManyRequests}

	errExpiredKey = newError(kindInvalid, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"This API key has expired. Ask your Switchyard operator to extend it (`syctl keys update --expires`) "+
			"or for a new one.")
	errRevokedKey = newError(kindInvalid, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"This API key has been revoked. Ask your Switchyard operator for a new one.")
)

// newError builds an error whose body is encoded once, so refusing a bad
// key costs no encoding (and no allocation) however many arrive.
func newError(k kind, status int, typ, code, msg string) *Error {
	e := &Error{kind: k, Status: status, Type: typ, Code: code, Message: msg}
	e.body = e.encode()
	return e
}

func forbidden(code, msg string) *Error {
	return newError(kindForbidden, http.StatusForbidden, "permission_error", code, msg)
}

func tooManyFailures(retryAfter time.Duration) *Error {
	e := newError(kindTooManyFailures, http.StatusTooManyRequests, "requests", "rate_limit_exceeded",
		"Too many requests with a missing or invalid API key from your address; retry after "+
			strconv.FormatInt(int64(retrySeconds(retryAfter)), 10)+"s with a valid key.")
	e.RetryAfter = retryAfter
	return e
}

func (e *Error) Error() string { return e.Message }

// Is matches the sentinels by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.kind == e.kind
}

// JSON is the OpenAI error body.
func (e *Error) JSON() []byte {
	if e.body == nil {
		return e.encode()
	}
	return e.body
}

func (e *Error) encode() []byte {
	return apierr.OpenAIBody(e.Message, e.Type, "", e.Code)
}

// SetHeaders adds Retry-After (whole seconds, rounded up) and
// retry-after-ms to a 429; other errors add nothing.
func (e *Error) SetHeaders(h http.Header) {
	if e.RetryAfter <= 0 {
		return
	}
	h["Retry-After"] = []string{strconv.Itoa(retrySeconds(e.RetryAfter))}
	h["Retry-After-Ms"] = []string{strconv.FormatInt(e.RetryAfter.Milliseconds(), 10)}
}

// Write answers the request with e: status, headers and JSON body.
func (e *Error) Write(w http.ResponseWriter) {
	h := w.Header()
	e.SetHeaders(h)
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.JSON())
}

func retrySeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
