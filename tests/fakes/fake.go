// Package fakes provides real HTTP fake upstreams that speak the wire
// protocols Switchyard forwards to: OpenAI (and the OpenAI-compatible vLLM
// and NVIDIA NIM variants), Anthropic Messages, Gemini generateContent and
// Azure OpenAI, with the exact success, stream and error shapes described in
// shared/PROTOCOLS.md.
//
// A Fake is an http.Handler. Start runs one on 127.0.0.1 for a test;
// ListenAndServe runs one standalone (see cmd/fakeupstream). Behaviour is set
// by a Config at construction and can be changed at any time with Update,
// FailNext and FailFraction, from any goroutine. Everything a test needs to
// assert on what the gateway sent is recorded: the last requests (method,
// path, query, headers, body), per-path counters, connection opens and
// closes, client cancellations, and the usage the fake reported.
//
// Usage is configured in OpenAI semantics (prompt tokens include cached
// tokens, completion tokens include reasoning tokens). Each protocol encodes
// it natively (Anthropic splits input and cache tokens, Gemini splits
// candidates and thoughts) so that a correct translation at the edge sums
// back to exactly the configured numbers.
package fakes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// maxBody caps how much of a request body the fake reads and records.
const maxBody = 64 << 20

// Fake is one fake upstream speaking one Protocol. It is safe for
// concurrent use; every knob can change while requests are in flight (a
// request uses the Config current when it arrived).
type Fake struct {
	Protocol Protocol
	// URL is the origin (scheme://host:port) once started with Start; the
	// paths are the provider's own (/v1/chat/completions, /v1/messages,
	// /v1beta/models/…, /openai/deployments/…).
	URL string

	mux     *http.ServeMux
	dialect dialect
	done    chan struct{} // closed by Close: releases stalls and delays
	once    sync.Once
	srv     *httptest.Server

	mu      sync.Mutex
	cfg     Config
	faults  faultPlan
	recent  []*RecordedRequest
	perPath map[string]int
	stats   Stats
	watched map[string]int
}

// dialect is one protocol's routes and error rendering.
type dialect interface {
	register(mux *http.ServeMux)
	// renderError writes the protocol's error body and status for e.
	renderError(ex *exchange, e apiErr)
	// streamError writes the protocol's mid-stream error event.
	streamError(s *streamer, kind ErrorKind)
}

// New builds a Fake for protocol p without starting a server; it is an
// http.Handler. It panics on an unknown protocol (a test bug).
func New(p Protocol, cfg Config) *Fake {
	f := &Fake{
		Protocol: p, mux: http.NewServeMux(), done: make(chan struct{}),
		cfg: cfg.withDefaults(p), perPath: map[string]int{}, watched: map[string]int{},
	}
	switch p {
	case OpenAI, VLLM, NIM, Azure:
		f.dialect = &openaiFamily{variant: p}
	case Anthropic:
		f.dialect = anthropicDialect{}
	case Gemini:
		f.dialect = geminiDialect{}
	default:
		panic(fmt.Sprintf("fakes: unknown protocol %q", p))
	}
	f.dialect.register(f.mux)
	return f
}

// Start runs a new Fake on 127.0.0.1 for the duration of the test.
func Start(t testing.TB, p Protocol, cfg Config) *Fake {
	t.Helper()
	f := New(p, cfg)
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ConnState = f.ConnState
	srv.Start()
	f.srv, f.URL = srv, srv.URL
	t.Cleanup(f.Close)
	return f
}

// Close releases stalled and delayed handlers and, if Start ran the fake,
// shuts its server down. It is idempotent.
func (f *Fake) Close() {
	f.once.Do(func() {
		close(f.done)
		if f.srv != nil {
			f.srv.CloseClientConnections()
			f.srv.Close()
		}
	})
}

// Server returns an http.Server for addr that serves f with connection
// counting and sane timeouts; ListenAndServe uses it.
func (f *Fake) Server(addr string) *http.Server {
	return &http.Server{
		Addr: addr, Handler: f, ConnState: f.ConnState,
		ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 1 << 20,
	}
}

// ListenAndServe serves f on addr until ctx is cancelled, then shuts down.
func (f *Fake) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return f.Serve(ctx, ln)
}

// Serve serves f on ln until ctx is cancelled.
func (f *Fake) Serve(ctx context.Context, ln net.Listener) error {
	srv := f.Server(ln.Addr().String())
	go func() {
		<-ctx.Done()
		f.Close()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Config returns a copy of the current behaviour.
func (f *Fake) Config() Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.withDefaults(f.Protocol)
}

// Update changes the behaviour; change runs under the fake's lock and must
// not call other Fake methods. Zero fields are re-defaulted afterwards.
func (f *Fake) Update(change func(*Config)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.cfg)
	f.cfg = f.cfg.withDefaults(f.Protocol)
}

// ServeHTTP records the request, applies latency and faults, and answers
// in the fake's protocol.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	cfg := f.Config()
	if !cfg.DisableHeaderOverrides {
		cfg = applyOverrides(cfg, r.Header)
	}
	ex := &exchange{f: f, w: w, r: r, cfg: cfg, body: body, entry: f.record(r, body, cfg.KeepRequests)}
	defer ex.settle()
	if !ex.sleep(cfg.TTFB) {
		return
	}
	if fault, ok := f.takeFault(r, cfg); ok {
		ex.serveFault(fault)
		return
	}
	f.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
}

// takeFault pops the injected failure for this request, if any.
func (f *Fake) takeFault(r *http.Request, cfg Config) (Fault, bool) {
	if cfg.forcedFault != nil {
		return *cfg.forcedFault, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults.take(isInference(r.URL.Path))
}

type exchangeKey struct{}

// exchange is the state of one request being served.
type exchange struct {
	f     *Fake
	w     http.ResponseWriter
	r     *http.Request
	cfg   Config
	body  []byte
	entry *RecordedRequest
}

// handle adapts a protocol handler to the mux.
func handle(fn func(*exchange)) http.HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) {
		ex := r.Context().Value(exchangeKey{}).(*exchange)
		ex.r = r // the mux's copy carries the path values
		fn(ex)
	}
}

// sleep waits d unless the client leaves or the fake closes first; it
// reports whether serving should continue.
func (ex *exchange) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ex.r.Context().Done():
		ex.finish(OutcomeCancelled)
		return false
	case <-ex.f.done:
		ex.finish(OutcomeCancelled)
		return false
	}
}

// finish sets the outcome once and updates the stats it implies.
func (ex *exchange) finish(o Outcome) {
	f := ex.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if ex.entry.Outcome != OutcomePending {
		return
	}
	ex.entry.Outcome = o
	switch o {
	case OutcomeCancelled:
		f.stats.Cancelled++
		f.stats.LastCancel = time.Now()
	case OutcomeFault:
		f.stats.Faults++
	case OutcomeDropped:
		f.stats.Dropped++
	case OutcomeStreamErr:
		f.stats.StreamErrs++
	}
}

// settle runs when the handler returns (or panics to drop the connection).
func (ex *exchange) settle() {
	ex.finish(OutcomeOK)
	ex.f.mu.Lock()
	ex.f.stats.InFlight--
	ex.f.mu.Unlock()
}

// completed counts an inference answer delivered in full with the usage it
// reported.
func (ex *exchange) completed(reported Usage) {
	f := ex.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Completed++
	f.stats.Reported = f.stats.Reported.Add(reported)
}

// note records what the request asked for.
func (ex *exchange) note(model string, stream bool) {
	ex.f.mu.Lock()
	defer ex.f.mu.Unlock()
	ex.entry.Model, ex.entry.Stream = model, stream
}

// serveFault answers an injected failure.
func (ex *exchange) serveFault(fault Fault) {
	if fault.RetryAfter != "" && ex.f.Protocol != Gemini {
		ex.w.Header().Set("Retry-After", fault.RetryAfter)
	}
	if fault.Body != "" {
		status := fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		ex.writeRaw(status, "application/json", []byte(fault.Body))
	} else {
		ex.f.dialect.renderError(ex, apiErr{Kind: fault.kind(), Status: fault.Status, RetryAfter: fault.RetryAfter})
	}
	ex.finish(OutcomeFault)
}

// apiErr is an error to render in the fake's protocol.
type apiErr struct {
	Kind       ErrorKind
	Status     int    // 0: the protocol's natural status for Kind
	RetryAfter string // seconds
	Message    string // "" uses the protocol's stock message for Kind
	Param      string // offending field, where the protocol reports one
}

// fail answers a protocol error (auth, not found, validation).
func (ex *exchange) fail(e apiErr) {
	ex.f.dialect.renderError(ex, e)
	ex.finish(OutcomeError)
}

// writeJSON writes v as a JSON response.
func (ex *exchange) writeJSON(status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakes: marshal response: %v", err))
	}
	ex.writeRaw(status, "application/json", data)
}

// writeRaw writes a complete response body.
func (ex *exchange) writeRaw(status int, contentType string, body []byte) {
	ex.w.Header().Set("Content-Type", contentType)
	ex.w.WriteHeader(status)
	if _, err := ex.w.Write(body); err != nil {
		ex.finish(OutcomeCancelled)
	}
}

// decode parses the JSON request body into v; on failure it answers 400.
func (ex *exchange) decode(v any) bool {
	if err := json.Unmarshal(ex.body, v); err != nil {
		ex.fail(apiErr{Kind: KindBadRequest, Message: badJSONMessage(ex.f.Protocol, err)})
		return false
	}
	return true
}
