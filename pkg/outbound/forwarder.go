package outbound

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// NewForwarder returns the RoundTripper the router forwards requests
// with. Plain-HTTP upstreams (self-hosted vLLM, NIM, another Switchyard
// inside the cluster: the ones where a gateway's per-request cost shows)
// go over an HTTP/1.1 connection pool that does each exchange on the
// caller's goroutine (see inlineTransport); HTTPS upstreams go over
// net/http's Transport, which negotiates HTTP/2 with public providers.
// Both dial through the same SSRF guard.
//
// Neither has a response-header timeout: a forwarded request is bounded by
// its context (the edge's first-byte, idle and total limits), so
// o.ResponseHeaderTimeout is not used.
func NewForwarder(p Policy, o Options) http.RoundTripper {
	o.ResponseHeaderTimeout = -1
	std := newTransport(p, o, nil)
	return &forwarder{
		plain: newInlineTransport(std.DialContext, o.withDefaults()),
		std:   std,
	}
}

type forwarder struct {
	plain *inlineTransport
	std   *http.Transport
}

func (f *forwarder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.Method != http.MethodConnect && req.Header.Get("Upgrade") == "" {
		return f.plain.RoundTrip(req)
	}
	return f.std.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both transports.
func (f *forwarder) CloseIdleConnections() {
	f.plain.CloseIdleConnections()
	f.std.CloseIdleConnections()
}

// aLongTimeAgo is a deadline in the past: setting it makes every pending
// and future read or write on a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// errWrite marks a failure while sending the request: the upstream did not
// get the whole request, so a fresh connection may send it again if the
// body can be replayed.
type errWrite struct{ err error }

func (e errWrite) Error() string { return "outbound: writing the request: " + e.err.Error() }
func (e errWrite) Unwrap() error { return e.err }

// errServerClosedIdle: a reused connection ended before a single byte of
// response; the server closed it while it sat idle, so it did not act on
// the request (net/http draws the same conclusion).
var errServerClosedIdle = errors.New("outbound: the upstream closed an idle connection before answering")

// replayable reports whether req may be sent again after err on a reused
// connection, by net/http's rules: an unsent request whose body can be
// rebuilt always; one the server may have read only if the method is
// idempotent or the caller marked it with an idempotency key.
func replayable(req *http.Request, err error) bool {
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !rewindable {
		return false
	}
	var we errWrite
	if errors.As(err, &we) {
		return true
	}
	if !errors.Is(err, errServerClosedIdle) {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// rewind gives req a fresh body for a second attempt.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	clone := *req
	clone.Body = body
	return &clone, nil
}

// ctxErr prefers the context's error when ctx ended: the read or write
// failed because the caller cancelled, not because the upstream did.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
