package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/provider"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// passthrough forwards /{service}/passthrough/{path...} to the service's
// base URL + path with any method and the body unaltered (multipart audio
// included). Only the allowlisted headers go along, the provider key is
// injected, and credential query parameters are dropped. The answer is
// relayed as it arrives (flushed per read, so event streams work) and is
// metered as one request, plus tokens when a JSON answer carries a usage
// block.
//
// The body is read completely first, so a body over the limit is refused
// with 413 before any upstream call. Access policy, rate limits (one
// request; tokens are charged when the answer reports them) and the
// service's circuit apply as on the API forms; there is no fallback, as
// the path names one service.
func (s *Server) passthrough(w http.ResponseWriter, in *inbound, p edgePath) {
	pl, err := s.pinnedPlan(in)
	if err != nil {
		s.refuse(w, err)
		return
	}
	rt := pl.candidates[0]
	if !cleanPath(p.rest) {
		s.refuse(w, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_path",
			Message: "Passthrough paths must not contain empty, '.' or '..' segments."})
		return
	}
	body, ok := s.readBody(w, in.r)
	if !ok {
		return
	}
	req, err := http.NewRequest(in.r.Method, passthroughURL(rt.Service.GetBaseUrl(), p.rest, in.r), bytes.NewReader(body))
	if err != nil {
		s.refuse(w, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_path",
			Message: "The passthrough path does not form a valid upstream URL."})
		return
	}
	if !s.cfg.Circuits.Allow(rt.Name()) {
		s.noCandidate(w, pl)
		return
	}
	adm, denied := s.admitKey(in.r.Context(), w, in, pl.model, 0)
	if denied == nil {
		denied, _ = s.admitService(in.r.Context(), w, adm, rt, 0)
	}
	if denied != nil {
		s.rateLimited(w, in, pl, denied)
		return
	}
	setUpstreamHeaders(req.Header, in.r.Header, passthroughHeaders, rt.Service.GetProtocol(), rt.Key.Reveal())
	s.passOn(w, in, rt, adm, req)
}

// passOn makes the passthrough call and relays its answer.
func (s *Server) passOn(w http.ResponseWriter, in *inbound, rt *routes.Route, adm *admission, req *http.Request) {
	ctx, span := metrics.StartRequestSpan(in.r, in.operation, rt.Service.GetModel())
	c := &call{id: s.newRequestID(), route: rt, model: rt.Service.GetModel(), consumer: in.who.ID,
		operation: in.operation, start: time.Now(), reached: true}
	w.Header().Set("X-Request-Id", c.id)
	defer func() {
		metrics.EndRequestSpan(span, s.publish(c))
		s.settle(adm, c.usage.TotalTokens)
	}()
	lim := s.newLimits(ctx)
	defer lim.release()
	actx := lim.ctx
	lim.await(s.cfg.FirstByteTimeout, errFirstByteTimeout)
	sctx, uspan := metrics.StartUpstreamSpan(actx, in.operation, c.model, rt.Name(), rt.Service.GetProtocol(), attemptFirst)
	s.recordStart(sctx, c, rt, c.model, false)
	began := time.Now()
	resp, err := rt.Transport.RoundTrip(req.WithContext(sctx))
	lim.done()
	s.cfg.Circuits.RecordCall(rt.Name(), resp, err, clientLeft(actx))
	if err != nil {
		s.upstreamFailed(w, actx, c, err)
	} else {
		defer resp.Body.Close()
		s.relayRaw(w, lim, c, resp)
	}
	metrics.ObserveUpstreamOp(in.operation, rt.Name(), rt.Service.GetProtocol(), c.model, c.status, outcomeErrType(actx, c, err), time.Since(began), attemptFirst)
	metrics.EndUpstreamSpan(uspan, c.status, err)
}

// cleanPath refuses dot segments and empty segments, which an upstream or
// a proxy in front of it might resolve to a path the operator did not
// expose. (A trailing slash is allowed.)
func cleanPath(escaped string) bool {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, seg := range segs {
		dec, ok := decode(seg)
		if !ok || dec == "." || dec == ".." || strings.Contains(dec, "/") || (seg == "" && i != len(segs)-1) {
			return false
		}
	}
	return true
}

// passthroughURL joins the base URL and the escaped path, keeping the
// query minus credential parameters (Gemini's ?key=).
func passthroughURL(base, escapedPath string, r *http.Request) string {
	u := strings.TrimSuffix(base, "/") + escapedPath
	q := r.URL.Query()
	if len(q) == 0 {
		return u
	}
	provider.StripCredentialQuery(q)
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// relayRaw copies the upstream's answer to the client as it arrives; each
// read resets the idle timer and is flushed. A JSON answer up to
// MaxUpstreamBytes is kept to read its usage block.
func (s *Server) relayRaw(w http.ResponseWriter, lim *limits, c *call, resp *http.Response) {
	c.status = resp.StatusCode
	copyResponseHeaders(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	lim.await(s.cfg.StreamIdleTimeout, errIdleTimeout)
	defer lim.done()
	var kept []byte
	keep := isJSON(resp.Header.Get("Content-Type"))
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			lim.touch()
			if c.ttft == 0 {
				c.ttft = time.Since(c.start)
			}
			if keep && int64(len(kept)+n) <= s.cfg.MaxUpstreamBytes {
				kept = append(kept, buf[:n]...)
			}
			if werr := s.writeChunk(w, rc, buf[:n]); werr != nil {
				lim.cancel(errClientGone)
				c.outcome = outcomeCancelled
				return
			}
		}
		if err != nil {
			s.endRaw(lim.ctx, c, kept, err)
			return
		}
	}
}

func (s *Server) writeChunk(w http.ResponseWriter, rc *http.ResponseController, p []byte) error {
	if s.cfg.WriteTimeout > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	}
	if _, err := w.Write(p); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// endRaw settles a relayed answer's outcome and usage. Once the status
// line has gone out, a failure can only cut the body short.
func (s *Server) endRaw(ctx context.Context, c *call, kept []byte, err error) {
	switch {
	case !errors.Is(err, io.EOF) && clientLeft(ctx):
		c.outcome = outcomeCancelled
	case !errors.Is(err, io.EOF):
		c.outcome = outcomePartial
		s.log.Warn("passthrough answer cut short", "service", c.route.Name(), "request_id", c.id, "err", err,
			"cause", context.Cause(ctx))
	case c.status >= 400:
		c.outcome = outcomeUpstream
	default:
		c.outcome = outcomeComplete
	}
	c.usage = usageOf(kept)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// usageOf reads the usage block of a JSON answer in any of the shapes the
// supported protocols use: OpenAI usage, Anthropic usage (input/output and
// cache tokens) or Gemini usageMetadata. Anything else is zero usage.
func usageOf(body []byte) translate.Usage {
	if len(body) == 0 {
		return translate.Usage{}
	}
	var v struct {
		Usage *struct {
			PromptTokens        int64 `json:"prompt_tokens"`
			CompletionTokens    int64 `json:"completion_tokens"`
			InputTokens         int64 `json:"input_tokens"`
			OutputTokens        int64 `json:"output_tokens"`
			CacheReadTokens     int64 `json:"cache_read_input_tokens"`
			CacheCreationTokens int64 `json:"cache_creation_input_tokens"`
		} `json:"usage"`
		UsageMetadata *struct {
			Prompt     int64 `json:"promptTokenCount"`
			Candidates int64 `json:"candidatesTokenCount"`
			Thoughts   int64 `json:"thoughtsTokenCount"`
		} `json:"usageMetadata"`
	}
	if json.Unmarshal(body, &v) != nil {
		return translate.Usage{}
	}
	var u translate.Usage
	switch {
	case v.Usage != nil:
		u.PromptTokens = v.Usage.PromptTokens + v.Usage.InputTokens + v.Usage.CacheReadTokens + v.Usage.CacheCreationTokens
		u.CompletionTokens = v.Usage.CompletionTokens + v.Usage.OutputTokens
		u.CachedTokens = v.Usage.CacheReadTokens
	case v.UsageMetadata != nil:
		u.PromptTokens = v.UsageMetadata.Prompt
		u.CompletionTokens = v.UsageMetadata.Candidates + v.UsageMetadata.Thoughts
		u.ReasoningTokens = v.UsageMetadata.Thoughts
	}
	return clampUsage(u)
}

// clampUsage keeps a usage block from a misbehaving upstream sane: no
// negative counts, details within their totals.
func clampUsage(u translate.Usage) translate.Usage {
	u.PromptTokens, u.CompletionTokens = max(u.PromptTokens, 0), max(u.CompletionTokens, 0)
	u.CachedTokens = min(max(u.CachedTokens, 0), u.PromptTokens)
	u.ReasoningTokens = min(max(u.ReasoningTokens, 0), u.CompletionTokens)
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if u.TotalTokens < 0 { // overflow
		u.TotalTokens = 1<<63 - 1
	}
	return u
}
