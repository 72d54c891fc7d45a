// Package edge is the router's OpenAI-compatible HTTP edge: it decodes and
// bounds each request, picks a route from the in-memory route cache,
// translates to the upstream's protocol, injects the provider key, streams
// or returns the answer in OpenAI's shape, and queues one usage event per
// request. Nothing here waits on NATS.
//
// The edge uses net/http directly rather than go-kit's HTTP transport: the
// hot path streams, and per-request allocations matter (issue 8). The path
// forms, passthrough, header allowlist and limits are described in
// docs/edge.md.
package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/provider"
	"github.com/switchyard/switchyard/services/router/internal/edgejson"
	"github.com/switchyard/switchyard/services/router/internal/health"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

// Config bounds what the edge accepts and how long it waits.
type Config struct {
	MaxBodyBytes      int64         // request body limit (413 above it)
	MaxHeaderBytes    int           // request header limit (431 above it)
	ReadHeaderTimeout time.Duration // slowloris guard
	MaxUpstreamBytes  int64         // non-streamed upstream body limit
	FirstByteTimeout  time.Duration // upstream response headers
	StreamIdleTimeout time.Duration // between upstream stream events
	TotalTimeout      time.Duration // whole request
	WriteTimeout      time.Duration // per write to a client, so a stalled reader is cut off
	BodyReadTimeout   time.Duration // reading the request body (slow-body guard)
	MaxEventBytes     int           // largest upstream SSE event
	Scan              edgejson.Options
	Circuits          *health.Breakers // passive health per service; nil: no circuit breaking
	// Auth authenticates consumer keys; nil: every caller is anonymous.
	Auth Authenticator
	// Limiter enforces the key, key+model and service limits; nil: none.
	Limiter ratelimit.Limiter
	// LimiterBackend names the limiter in metrics ("memory", "redis").
	LimiterBackend string
	// DefaultOutputTokens is reserved for the answer of a request that
	// sets no max_tokens, until the real usage settles it.
	DefaultOutputTokens int64
	// Retry bounds fallback to another service.
	Retry RetryBudget
}

// DefaultConfig is the production default.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes: 20 << 20, MaxHeaderBytes: 64 << 10, ReadHeaderTimeout: 10 * time.Second,
		MaxUpstreamBytes: 64 << 20, FirstByteTimeout: 5 * time.Minute, StreamIdleTimeout: 2 * time.Minute,
		TotalTimeout: 30 * time.Minute, WriteTimeout: 30 * time.Second, BodyReadTimeout: time.Minute,
		MaxEventBytes: 8 << 20, DefaultOutputTokens: 1024, Retry: DefaultRetryBudget(), LimiterBackend: "memory",
	}
}

// RouteSource gives the current route table; *routes.Cache is one.
type RouteSource interface {
	Load() *routes.Table
	// Ready reports whether the table holds the registry's state yet.
	Ready() bool
}

// UsageSink takes one usage event per forwarded request without blocking;
// *usage.Publisher is one.
type UsageSink interface {
	Publish(ev *pb.UsageEvent)
}

// UsageStarter is a UsageSink that also records, before the upstream sees
// a request, that the request started, so a router crash mid-request
// still meters it (docs/metering.md). *usage.Publisher is one.
type UsageStarter interface {
	Start(ctx context.Context, ev *pb.UsageEvent)
}

// Server is the edge.
type Server struct {
	cfg    Config
	routes RouteSource
	usage  UsageSink
	start  UsageStarter // nil when the sink records no start
	log    *slog.Logger

	budget   *retryBudget
	idPrefix string
	seq      atomic.Uint64
}

// New returns the edge over a route cache and a usage publisher.
func New(cfg Config, cache RouteSource, pub UsageSink, log *slog.Logger) *Server {
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &Server{cfg: cfg, routes: cache, usage: pub, log: log, budget: newRetryBudget(cfg.Retry),
		idPrefix: "req_" + hex.EncodeToString(b[:])}
	s.start, _ = pub.(UsageStarter)
	return s
}

// Handler returns the edge: header checks, then the path forms of
// routing.go.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// HTTPServer wraps the handler in a server with the edge's limits. There is
// deliberately no global WriteTimeout: it would cut long streams; writes
// get per-write deadlines instead. The listener's MaxHeaderBytes is twice
// the configured limit so that the handler, not net/http, refuses most
// oversized headers, in OpenAI's JSON shape (see checkHeaders).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr: addr, Handler: s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, MaxHeaderBytes: 2 * s.cfg.MaxHeaderBytes,
		IdleTimeout: 2 * time.Minute,
	}
}

// newRequestID is unique across replicas (random prefix per process) and
// cheap (a counter). It is the usage event's Nats-Msg-Id.
func (s *Server) newRequestID() string {
	return s.idPrefix + "_" + strconv.FormatUint(s.seq.Add(1), 36)
}

// readBody reads a bounded request body within BodyReadTimeout, answering
// 413 or 408 itself. The read deadline is cleared afterwards: left armed,
// it would fire in net/http's background read and cancel the request.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		tooLarge(w, s.cfg.MaxBodyBytes)
		return nil, false
	}
	rc := http.NewResponseController(w)
	if s.cfg.BodyReadTimeout > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout))
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), r.ContentLength)
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
		return body, true
	}
	// On failure the deadline stays armed: net/http drains an unread body
	// after the handler, and a slow client must not hold that drain open.
	w.Header().Set("Connection", "close")
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		tooLarge(w, s.cfg.MaxBodyBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		(&apiError{Status: http.StatusRequestTimeout, Type: typeInvalidRequest, Code: "request_timeout",
			Message: "The request body was not received within " + s.cfg.BodyReadTimeout.String() + "."}).write(w)
	default:
		(&apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "body_unreadable",
			Message: "The request body could not be read completely."}).write(w)
	}
	return nil, false
}

// readAll is io.ReadAll that sizes its buffer from Content-Length, saving
// the copies of a growing buffer on large bodies.
func readAll(body io.Reader, contentLength int64) ([]byte, error) {
	if contentLength <= 0 {
		return io.ReadAll(body)
	}
	// net/http's body reader stops at Content-Length, so nothing follows.
	buf := make([]byte, contentLength)
	n, err := io.ReadFull(body, buf)
	return buf[:n], err
}

func tooLarge(w http.ResponseWriter, limit int64) {
	(&apiError{Status: http.StatusRequestEntityTooLarge, Type: typeInvalidRequest, Code: "request_too_large",
		Message: "The request body exceeds the gateway's limit of " + strconv.FormatInt(limit, 10) + " bytes."}).write(w)
}

// checkHeaders refuses oversized headers with 431 and header names with
// underscores with 400, both as OpenAI JSON. The listener allows twice
// MaxHeaderBytes, so only requests beyond that get net/http's own
// plain-text 431.
//
// Underscored names are refused because proxies disagree on them (nginx
// drops them, others map '_' to '-'), which lets a client smuggle a header
// past a check made under its other spelling.
func (s *Server) checkHeaders(r *http.Request) error {
	size := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 4
	for name, values := range r.Header {
		if strings.IndexByte(name, '_') >= 0 {
			return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_header_name",
				Message: "Header names containing '_' are not accepted (" + quoteName(name) + "); use '-' instead."}
		}
		for _, v := range values {
			size += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	if size > s.cfg.MaxHeaderBytes {
		return &apiError{Status: http.StatusRequestHeaderFieldsTooLarge, Type: typeInvalidRequest,
			Code:    "request_header_fields_too_large",
			Message: "The request headers exceed the gateway's limit of " + strconv.Itoa(s.cfg.MaxHeaderBytes) + " bytes."}
	}
	return nil
}

// quoteName shows a header name in an error, shortened: names are not
// secret, but a client should not be able to make the edge echo kilobytes.
func quoteName(name string) string {
	const most = 64
	if len(name) > most {
		name = name[:most] + "…"
	}
	return strconv.Quote(name)
}

// Inbound headers forwarded upstream. Everything else, and in particular
// every credential (Authorization, x-api-key, api-key, x-goog-api-key,
// cookies), every hop-by-hop header and every arbitrary x-* header, stays
// at the edge.
var (
	// forwardedHeaders go to translated calls (chat, completions,
	// embeddings), whose Content-Type and Accept the edge sets itself.
	forwardedHeaders = []string{"Accept-Language", "Openai-Beta", "Anthropic-Beta"}
	// passthroughHeaders go to passthrough calls, which carry the client's
	// own body and content negotiation.
	passthroughHeaders = []string{"Content-Type", "Accept", "Accept-Language", "Openai-Beta",
		"Anthropic-Beta", "Anthropic-Version", "Idempotency-Key"}
)

// copyAllowed copies the allowlisted names from src to dst.
func copyAllowed(dst, src http.Header, names []string) {
	for _, name := range names {
		if v := src.Values(name); len(v) > 0 {
			dst[name] = append([]string(nil), v...)
		}
	}
}

// setUpstreamHeaders builds an upstream request's headers: the allowlisted
// inbound ones, then the provider credential (SetAuth also strips any
// inbound credential header an allowlist might ever let through).
func setUpstreamHeaders(dst, inbound http.Header, allowed []string, protocol, key string) {
	copyAllowed(dst, inbound, allowed)
	provider.RemoveHopByHop(dst)
	provider.Protocol(protocol).SetAuth(dst, key)
}

// copyResponseHeaders copies an upstream's response headers for a
// passthrough answer, minus hop-by-hop ones and the length (the edge may
// re-frame the body).
func copyResponseHeaders(dst, src http.Header) {
	for name, values := range src {
		dst[name] = append([]string(nil), values...)
	}
	provider.RemoveHopByHop(dst)
	dst.Del("Content-Length")
	dst.Del("Set-Cookie")
}
