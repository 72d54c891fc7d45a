package edge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// Usage outcomes.
const (
	outcomeComplete    = "complete"
	outcomeUpstream    = "upstream_error"
	outcomeCancelled   = "client_cancelled"
	outcomePartial     = "partial"
	outcomeRateLimited = "rate_limited"
)

// call is the state of one client request, for its usage event.
type call struct {
	id        string
	route     *routes.Route // the service that answered (the last one tried)
	model     string
	alias     string
	consumer  string
	operation string
	start     time.Time
	ttft      time.Duration
	status    int
	usage     translate.Usage
	outcome   string
	stream    bool
	reached   bool // an upstream was called (or the request was rate limited)
	started   bool // the start was recorded (before the first upstream call)
}

// forwarded is what an endpoint hands to forward.
type forwarded struct {
	model  string // the edge model name in the body
	tokens int64  // the token estimate to reserve
	bind   binder
}

// forward plans the request (pinned service, alias or model id), admits
// it against the key's rate limits, then tries the candidates in order
// (attempts.go) and answers. One usage event is published per client
// request that reached an upstream or was rate limited; requests refused
// earlier publish none.
func (s *Server) forward(w http.ResponseWriter, in *inbound, f forwarded) {
	p, err := s.plan(in, f.model)
	if err != nil {
		s.refuse(w, err)
		return
	}
	adm, denied := s.admitKey(in.r.Context(), w, in, p.model, f.tokens)
	if denied != nil {
		s.rateLimited(w, in, p, denied)
		return
	}
	ctx, span := metrics.StartRequestSpan(in.r, in.operation, p.model)
	c := &call{id: s.newRequestID(), model: p.model, alias: p.alias, consumer: in.who.ID,
		operation: in.operation, start: time.Now()}
	if len(p.candidates) == 1 {
		c.route = p.candidates[0]
	}
	w.Header().Set("X-Request-Id", c.id)
	defer func() {
		ev := s.publish(c)
		metrics.EndRequestSpan(span, ev)
		s.settle(adm, c.usage.TotalTokens)
	}()
	defer s.budget.started()()
	lim := s.newLimits(ctx)
	defer lim.release()
	s.try(w, in, lim, c, p, adm, f)
}

// clientLeft reports whether ctx ended because the client went away
// (its connection closed, or a write to it failed).
func clientLeft(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, context.Canceled) || errors.Is(cause, errClientGone)
}

func (s *Server) send(ctx context.Context, rt *routes.Route, up translate.UpstreamRequest, inbound http.Header,
	stream bool) (*http.Response, error) {
	u := strings.TrimSuffix(rt.Service.GetBaseUrl(), "/") + up.Path
	if len(up.Query) > 0 {
		u += "?" + up.Query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, up.Method, u, bytes.NewReader(up.Body))
	if err != nil {
		return nil, err
	}
	setUpstreamHeaders(req.Header, inbound, forwardedHeaders, rt.Service.GetProtocol(), rt.Key.Reveal())
	req.Header["Content-Type"] = headerJSON
	if stream {
		req.Header["Accept"] = headerEventStream
	} else {
		req.Header["Accept"] = headerJSON
	}
	return rt.Transport.RoundTrip(req)
}

// Shared header values, never modified: setting them allocates nothing.
var (
	headerJSON        = []string{"application/json"}
	headerEventStream = []string{"text/event-stream"}
)

func (s *Server) upstreamFailed(w http.ResponseWriter, ctx context.Context, c *call, err error) {
	cause := context.Cause(ctx)
	switch {
	case clientLeft(ctx):
		c.outcome = outcomeCancelled
	case errors.Is(cause, errFirstByteTimeout), errors.Is(cause, errTotalTimeout), errors.Is(cause, errIdleTimeout),
		errors.Is(err, context.DeadlineExceeded):
		c.outcome, c.status = outcomeUpstream, http.StatusGatewayTimeout
		writeErr(w, upstreamTimeout(c.route.Name()))
	default:
		c.outcome, c.status = outcomeUpstream, http.StatusBadGateway
		s.log.Warn("upstream call failed", "service", c.route.Name(), "request_id", c.id, "err", err)
		writeErr(w, upstreamUnreachable(c.route.Name()))
	}
}

func (s *Server) relayBody(w http.ResponseWriter, ctx context.Context, c *call, ex *exchange, resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxUpstreamBytes))
	if err != nil {
		s.upstreamFailed(w, ctx, c, err)
		return
	}
	c.ttft = time.Since(c.start)
	out, u, err := ex.response(resp.StatusCode, body)
	c.usage = u
	if err != nil {
		c.outcome = outcomeUpstream
		writeErr(w, err)
		return
	}
	c.outcome = outcomeComplete
	w.Header()["Content-Type"] = headerJSON
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(out); err != nil {
		c.outcome = outcomeCancelled
	}
}

// recordStart records, once per request and before its first upstream
// call, that the request is about to reach rt. The marker carries what
// the final event will (request id, time, consumer, model, service) and
// no tokens: a prompt estimate could exceed what the upstream reports.
func (s *Server) recordStart(ctx context.Context, c *call, rt *routes.Route, model string, stream bool) {
	if c.started || s.start == nil {
		return
	}
	c.started = true
	s.start.Start(ctx, &pb.UsageEvent{
		RequestId: c.id, Consumer: c.consumer, Alias: c.alias, Model: model, Operation: c.operation,
		Service: rt.Name(), Protocol: rt.Service.GetProtocol(), Time: timestamppb.New(c.start), Stream: stream,
	})
}

// publish queues the request's usage event (none for a request that never
// reached an upstream) and returns it for the request span.
func (s *Server) publish(c *call) *pb.UsageEvent {
	ev := &pb.UsageEvent{
		RequestId: c.id, Consumer: c.consumer, Alias: c.alias, Model: c.model,
		StatusCode: int32(c.status), Operation: c.operation,
		PromptTokens: c.usage.PromptTokens, CompletionTokens: c.usage.CompletionTokens,
		CachedTokens: c.usage.CachedTokens, ReasoningTokens: c.usage.ReasoningTokens,
		LatencyMs: time.Since(c.start).Milliseconds(), TtftMs: c.ttft.Milliseconds(),
		Outcome: c.outcome, Time: timestamppb.New(c.start), Stream: c.stream,
	}
	if c.route != nil {
		ev.Service, ev.Protocol = c.route.Name(), c.route.Service.GetProtocol()
	}
	if c.reached {
		s.usage.Publish(ev)
	}
	return ev
}
