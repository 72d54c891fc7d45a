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
// with 413 before any upstream call.
func (s *Server) passthrough(w http.ResponseWriter, r *http.Request, p edgePath) {
	rt, err := s.pickService(p.scope)
	if err != nil {
		writeErr(w, err)
		return
	}
	if !cleanPath(p.rest) {
		writeErr(w, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_path",
			Message: "Passthrough paths must not contain empty, '.' or '..' segments."})
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	c := &call{id: s.newRequestID(), route: rt, model: rt.Service.GetModel(), start: time.Now()}
	w.Header().Set("X-Request-Id", c.id)
	defer s.publish(c)
	lim := s.newLimits(r.Context())
	defer lim.release()
	req, err := http.NewRequestWithContext(lim.ctx, r.Method, passthroughURL(rt.Service.GetBaseUrl(), p.rest, r), bytes.NewReader(body))
	if err != nil {
		writeErr(w, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_path",
			Message: "The passthrough path does not form a valid upstream URL."})
		return
	}
	setUpstreamHeaders(req.Header, r.Header, passthroughHeaders, rt.Service.GetProtocol(), rt.Key.Reveal())
	resp, err := rt.Client.Do(req)
	lim.firstByte.Stop()
	if err != nil {
		s.upstreamFailed(w, lim.ctx, c, err)
		return
	}
	defer resp.Body.Close()
	s.relayRaw(w, lim, c, resp)
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
	idle := time.AfterFunc(s.cfg.StreamIdleTimeout, func() { lim.cancel(errIdleTimeout) })
	defer idle.Stop()
	var kept []byte
	keep := isJSON(resp.Header.Get("Content-Type"))
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			idle.Reset(s.cfg.StreamIdleTimeout)
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
			s.endRaw(lim, c, kept, err)
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
func (s *Server) endRaw(lim *limits, c *call, kept []byte, err error) {
	switch {
	case !errors.Is(err, io.EOF) && clientLeft(lim.ctx):
		c.outcome = outcomeCancelled
	case !errors.Is(err, io.EOF):
		c.outcome = outcomePartial
		s.log.Warn("passthrough answer cut short", "service", c.route.Name(), "request_id", c.id, "err", err,
			"cause", context.Cause(lim.ctx))
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
