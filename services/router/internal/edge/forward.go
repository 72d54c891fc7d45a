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
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// Usage outcomes.
const (
	outcomeComplete  = "complete"
	outcomeUpstream  = "upstream_error"
	outcomeCancelled = "client_cancelled"
	outcomePartial   = "partial"
)

// call is the state of one forwarded request, for its usage event.
type call struct {
	id      string
	route   *routes.Route
	model   string
	start   time.Time
	ttft    time.Duration
	status  int
	usage   translate.Usage
	outcome string
	stream  bool
}

// forward routes the request (the pinned service, or by model), builds the
// exchange for the chosen route, calls the upstream and answers. Requests
// refused before an upstream call publish no usage event: only requests
// that reach an upstream are metered.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, sc scope, model string, bind binder) {
	rt, err := s.route(sc, model)
	if err != nil {
		writeErr(w, err)
		return
	}
	ex, err := bind(rt)
	if err != nil {
		writeErr(w, err)
		return
	}
	up, err := ex.request(translate.Target{Model: rt.Service.GetModel(),
		AzureDeployment: rt.Service.GetAzureDeployment(), AzureAPIVersion: rt.Service.GetAzureApiVersion()})
	if err != nil {
		writeErr(w, err)
		return
	}
	if sc.pinned() {
		model = rt.Service.GetModel() // whatever the body said, this is what was served
	}
	c := &call{id: s.newRequestID(), route: rt, model: model, start: time.Now(), stream: ex.stream}
	w.Header().Set("X-Request-Id", c.id)
	defer s.publish(c)
	lim := s.newLimits(r.Context())
	defer lim.release()
	ctx := lim.ctx
	resp, err := s.send(ctx, rt, up, r.Header, ex.stream)
	lim.firstByte.Stop()
	s.cfg.Circuits.RecordCall(rt.Name(), resp, err, clientLeft(ctx))
	if err != nil {
		s.upstreamFailed(w, ctx, c, err)
		return
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	if ex.stream && resp.StatusCode == http.StatusOK {
		s.relayStream(w, ctx, lim.cancel, c, ex, resp)
		return
	}
	s.relayBody(w, ctx, c, ex, resp)
}

// limits is the one context that carries every limit of a forwarded
// request; its cause says which one fired. A client that goes away cancels
// it too, which cancels the upstream call.
type limits struct {
	ctx              context.Context
	cancel           context.CancelCauseFunc
	firstByte, total *time.Timer
}

// newLimits arms the total and first-byte timers; stop the first-byte one
// when response headers arrive, and call release when the request ends.
func (s *Server) newLimits(parent context.Context) *limits {
	ctx, cancel := context.WithCancelCause(parent)
	return &limits{ctx: ctx, cancel: cancel,
		total:     time.AfterFunc(s.cfg.TotalTimeout, func() { cancel(errTotalTimeout) }),
		firstByte: time.AfterFunc(s.cfg.FirstByteTimeout, func() { cancel(errFirstByteTimeout) }),
	}
}

func (l *limits) release() {
	l.firstByte.Stop()
	l.total.Stop()
	l.cancel(nil)
}

// Why a forwarded request's context ended, when the gateway ended it.
var (
	errTotalTimeout     = errors.New("total request timeout")
	errFirstByteTimeout = errors.New("upstream first-byte timeout")
	errIdleTimeout      = errors.New("upstream stream idle timeout")
	errClientGone       = errors.New("client went away")
)

// clientLeft reports whether ctx ended because the client went away
// (its connection closed, or a write to it failed).
func clientLeft(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, context.Canceled) || errors.Is(cause, errClientGone)
}

// pick chooses a usable route for model, spreading load round-robin.
func (s *Server) pick(model string) (*routes.Route, error) {
	all := s.routes.Load().ForModel(model)
	if len(all) == 0 {
		return nil, modelNotFound(model)
	}
	n := uint64(len(all))
	start := s.rr.Add(1)
	for i := range n {
		if rt := all[(start+i)%n]; rt.Usable() && s.cfg.Circuits.Allow(rt.Name()) {
			return rt, nil
		}
	}
	why := all[0].KeyErr
	if why == "" {
		why = "every service for it is Failed or cooling down after upstream errors; see `syctl services list`"
	}
	return nil, noUsableRoute(model, why)
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
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	return rt.Client.Do(req)
}

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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(out); err != nil {
		c.outcome = outcomeCancelled
	}
}

func (s *Server) publish(c *call) {
	s.usage.Publish(&pb.UsageEvent{
		RequestId: c.id, Consumer: "anonymous", Service: c.route.Name(), Model: c.model,
		Protocol: c.route.Service.GetProtocol(), StatusCode: int32(c.status),
		PromptTokens: c.usage.PromptTokens, CompletionTokens: c.usage.CompletionTokens,
		CachedTokens: c.usage.CachedTokens, ReasoningTokens: c.usage.ReasoningTokens,
		LatencyMs: time.Since(c.start).Milliseconds(), TtftMs: c.ttft.Milliseconds(),
		Outcome: c.outcome, Time: timestamppb.New(c.start), Stream: c.stream,
	})
}
