package edge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// Attempt labels for metrics and spans.
const (
	attemptFirst    = "first"
	attemptFallback = "fallback"
)

// failed is an attempt that can be fallen back from: a connect failure,
// or a 429 or 5xx answer whose body is buffered, so that if no other
// service can take the request this answer is relayed as it would have
// been without fallback.
type failed struct {
	route *routes.Route
	ex    *exchange
	resp  *http.Response
	err   error
}

// try sends the request to the plan's candidates in order until one
// answers. It falls back to the next candidate only on a connect failure,
// a 429 or a 5xx, which all arrive before any byte has gone to the
// client; once an answer is relayed it is final. Fallback is bounded by
// MaxAttempts and the retry budget; a candidate whose circuit is open or
// whose service limit is spent is skipped.
func (s *Server) try(w http.ResponseWriter, in *inbound, lim *limits, c *call, p *plan, adm *admission, f forwarded) {
	var last *failed
	var limited *ratelimit.Decision
	tried := 0
	for _, rt := range p.candidates {
		if tried == s.budget.cfg.MaxAttempts || clientLeft(lim.ctx) {
			break
		}
		release, ok := s.retrySlot(tried)
		if !ok {
			break
		}
		fail, done := s.tryOne(w, in, lim, c, p, adm, f, rt, tried, &limited)
		release()
		if fail == nil && !done {
			continue // skipped: circuit open, service limit spent, or no exchange
		}
		tried++
		if done {
			return
		}
		last = fail
	}
	switch {
	case last != nil:
		c.route, c.stream = last.route, last.ex.stream
		s.relay(w, lim, c, last.ex, last.resp, last.err)
	case limited != nil:
		c.status, c.outcome, c.reached = http.StatusTooManyRequests, outcomeRateLimited, true
		s.writeRateLimited(w, in, p.model, limited)
	default:
		s.noCandidate(w, p)
	}
}

// retrySlot takes a retry from the budget for every attempt after the
// first.
func (s *Server) retrySlot(tried int) (release func(), ok bool) {
	if tried == 0 {
		return func() {}, true
	}
	return s.budget.acquire()
}

// tryOne makes one attempt at rt, unless its circuit or its service limit
// says no (nil, false). done means the client has its answer.
func (s *Server) tryOne(w http.ResponseWriter, in *inbound, lim *limits, c *call, p *plan, adm *admission,
	f forwarded, rt *routes.Route, tried int, limited **ratelimit.Decision) (*failed, bool) {
	if !s.cfg.Circuits.Allow(rt.Name()) {
		return nil, false
	}
	if d, ok := s.admitService(lim.ctx, w, adm, rt, f.tokens); !ok {
		*limited = d
		return nil, false
	}
	ex, err := f.bind(rt)
	if err != nil {
		if tried > 0 {
			return nil, false // a failed attempt's answer is better than a binding error
		}
		writeErr(w, err)
		return nil, true
	}
	label := attemptFirst
	if tried > 0 {
		label = attemptFallback
	}
	fail := s.attempt(w, in, lim, c, p, rt, ex, label)
	return fail, fail == nil
}

// attempt makes one upstream call. It returns nil once the client has its
// answer, or the failure to fall back from.
func (s *Server) attempt(w http.ResponseWriter, in *inbound, lim *limits, c *call, p *plan, rt *routes.Route,
	ex *exchange, label string) *failed {
	model := upstreamModel(rt, p)
	up, err := ex.request(target(rt, p))
	if err != nil {
		writeErr(w, err)
		return nil
	}
	// The attempt shares the request's context: a failed attempt's body is
	// buffered before the next, and a first-byte timeout ends the request
	// (it is not worth a fallback), so nothing needs cancelling alone.
	ctx := lim.ctx
	lim.await(s.cfg.FirstByteTimeout, errFirstByteTimeout)
	protocol := rt.Service.GetProtocol()
	sctx, span := metrics.StartUpstreamSpan(ctx, in.operation, model, rt.Name(), protocol, label)
	s.recordStart(sctx, c, rt, model, ex.stream)
	began := time.Now()
	resp, err := s.send(sctx, rt, up, in.r.Header, ex.stream)
	lim.done()
	s.cfg.Circuits.RecordCall(rt.Name(), resp, err, clientLeft(ctx))
	c.route, c.model, c.stream, c.reached = rt, model, ex.stream, true
	if fallbackWorthy(ctx, resp, err) {
		status := bufferBody(resp, s.cfg.MaxUpstreamBytes)
		metrics.ObserveUpstreamOp(in.operation, rt.Name(), protocol, model, status, errTypeOf(ctx, status, err), time.Since(began), label)
		metrics.EndUpstreamSpan(span, status, err)
		return &failed{route: rt, ex: ex, resp: resp, err: err}
	}
	s.relay(w, lim, c, ex, resp, err)
	metrics.ObserveUpstreamOp(in.operation, rt.Name(), protocol, model, c.status, outcomeErrType(ctx, c, err), time.Since(began), label)
	metrics.EndUpstreamSpan(span, c.status, err)
	return nil
}

// relay answers the client from one upstream call.
func (s *Server) relay(w http.ResponseWriter, lim *limits, c *call, ex *exchange, resp *http.Response, err error) {
	if err != nil {
		s.upstreamFailed(w, lim.ctx, c, err)
		return
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	if ex.stream && resp.StatusCode == http.StatusOK {
		s.relayStream(w, lim, c, ex, resp)
		return
	}
	s.relayBody(w, lim.ctx, c, ex, resp)
}

// fallbackWorthy: a connect failure (not a timeout the edge enforced, not
// the client leaving), a 429 or a 5xx.
func fallbackWorthy(ctx context.Context, resp *http.Response, err error) bool {
	if err != nil {
		cause := context.Cause(ctx)
		return !clientLeft(ctx) && !errors.Is(cause, errFirstByteTimeout) && !errors.Is(cause, errTotalTimeout) &&
			!errors.Is(err, context.DeadlineExceeded)
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
}

// bufferBody reads a failed answer's (small) body into memory so the
// connection is released and the answer can still be relayed later. It
// returns the status, 0 when there was no answer.
func bufferBody(resp *http.Response, limit int64) int {
	if resp == nil {
		return 0
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp.StatusCode
}

// errTypeOf names a failed attempt for the metrics' error_type.
func errTypeOf(ctx context.Context, status int, err error) string {
	switch {
	case err == nil && status >= 400:
		return "http_" + strconv.Itoa(status)
	case err == nil:
		return ""
	case clientLeft(ctx):
		return outcomeCancelled
	case errors.Is(context.Cause(ctx), errFirstByteTimeout), errors.Is(context.Cause(ctx), errTotalTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "connect"
}

// outcomeErrType names a relayed attempt by how it ended.
func outcomeErrType(ctx context.Context, c *call, err error) string {
	switch {
	case err != nil:
		return errTypeOf(ctx, 0, err)
	case c.outcome == outcomeComplete:
		return ""
	case c.outcome == outcomeUpstream && c.status >= 400:
		return "http_" + strconv.Itoa(c.status)
	}
	return c.outcome
}

// upstreamModel is the model id rt is asked for.
func upstreamModel(rt *routes.Route, p *plan) string {
	if p.upstreamModel != "" {
		return p.upstreamModel
	}
	return rt.Service.GetModel()
}

// target is the translation target for rt. A templated alias's model is
// also the Azure deployment (seed 004: the deployment id comes from the
// request).
func target(rt *routes.Route, p *plan) translate.Target {
	t := translate.Target{Model: rt.Service.GetModel(), AzureDeployment: rt.Service.GetAzureDeployment(),
		AzureAPIVersion: rt.Service.GetAzureApiVersion()}
	if p.upstreamModel != "" {
		t.Model, t.AzureDeployment = p.upstreamModel, p.upstreamModel
	}
	return t
}

// noCandidate answers 503 when every candidate's circuit is open, with
// the soonest time one may take traffic again as Retry-After.
func (s *Server) noCandidate(w http.ResponseWriter, p *plan) {
	soonest := time.Duration(0)
	for i, rt := range p.candidates {
		if in := s.cfg.Circuits.RetryIn(rt.Name()); i == 0 || in < soonest {
			soonest = in
		}
	}
	secs := max(int64((soonest+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	metrics.Refused("no_usable_route", http.StatusServiceUnavailable)
	writeErr(w, noUsableRoute(p.model, "every service for it is cooling down after upstream errors or a 429; retry after "+
		strconv.FormatInt(secs, 10)+"s"))
}
