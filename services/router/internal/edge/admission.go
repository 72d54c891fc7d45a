package edge

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

// Authenticator says who sent a request; *keys.Authenticator is one.
type Authenticator interface {
	Authenticate(r *http.Request) (*keys.Principal, error)
}

// inbound is one authenticated client request.
type inbound struct {
	r         *http.Request
	scope     scope
	who       *keys.Principal
	operation string // chat, completions, embeddings, passthrough
}

// authenticate returns the caller, or answers 401/429 itself. Without an
// Authenticator every caller is anonymous.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*keys.Principal, bool) {
	if s.cfg.Auth == nil {
		return keys.Anonymous, true
	}
	p, err := s.cfg.Auth.Authenticate(r)
	if err != nil {
		s.refuse(w, err)
		return nil, false
	}
	return p, true
}

// policyOf is a service's access policy (seed 001).
func policyOf(rt *routes.Route) keys.ServicePolicy {
	return keys.ServicePolicy{AllowedGroups: rt.Service.GetAllowedGroups(), AllowedDomains: rt.Service.GetAllowedDomains()}
}

// admission is what the rate limiter reserved for one client request.
type admission struct {
	key      ratelimit.Reservation   // the key and key+model scopes
	services []ratelimit.Reservation // one per attempt that took a service scope
	headers  ratelimit.Decision      // the quotas shown in x-ratelimit-*
}

// admitKey reserves one request and the token estimate in the key's own
// scopes. On a denial it answers 429 (or 503 when the limiter fails
// closed) and returns false.
func (s *Server) admitKey(ctx context.Context, w http.ResponseWriter, in *inbound, model string, tokens int64) (*admission, *ratelimit.Decision) {
	adm := &admission{}
	var buf [ratelimit.MaxScopes]ratelimit.Scope
	scopes := in.who.Scopes(model, buf[:0])
	d, ok := s.limit(ctx, scopes, tokens)
	if !ok {
		return nil, &d
	}
	adm.key, adm.headers = d.Reservation, d
	adm.headers.SetHeaders(w.Header())
	return adm, nil
}

// admitService reserves one upstream call to rt in its per-service scope.
func (s *Server) admitService(ctx context.Context, w http.ResponseWriter, adm *admission, rt *routes.Route, tokens int64) (*ratelimit.Decision, bool) {
	l := rt.Service.GetLimits()
	if l.GetRpm() == 0 && l.GetTpm() == 0 {
		return nil, true
	}
	scope := [1]ratelimit.Scope{ratelimit.ServiceScope(rt.Name(), ratelimit.Limits{RPM: l.GetRpm(), TPM: l.GetTpm()})}
	d, ok := s.limit(ctx, scope[:], tokens)
	if !ok {
		return &d, false
	}
	adm.services = append(adm.services, d.Reservation)
	merged := adm.headers
	merged.Requests, merged.Tokens = tighter(merged.Requests, d.Requests), tighter(merged.Tokens, d.Tokens)
	merged.SetHeaders(w.Header())
	return nil, true
}

// tighter is the quota with less left; an unlimited quota (Limit 0) never
// wins.
func tighter(a, b ratelimit.Quota) ratelimit.Quota {
	switch {
	case a.Limit <= 0:
		return b
	case b.Limit <= 0 || a.Remaining <= b.Remaining:
		return a
	}
	return b
}

// limit asks the limiter about scopes. A limiter error (it could not
// decide, e.g. a misuse) admits: a broken limiter must not take the
// gateway down, and the error is logged.
func (s *Server) limit(ctx context.Context, scopes []ratelimit.Scope, tokens int64) (ratelimit.Decision, bool) {
	if s.cfg.Limiter == nil || len(scopes) == 0 {
		return ratelimit.Decision{Allowed: true}, true
	}
	start := time.Now()
	d, err := s.cfg.Limiter.Admit(ctx, scopes, tokens)
	metrics.RateLimitBackendCall(s.cfg.LimiterBackend, time.Since(start), d.Source == ratelimit.SourceLocal)
	if err != nil {
		s.log.Error("rate limiter could not decide; request admitted", "err", err)
		return ratelimit.Decision{Allowed: true}, true
	}
	return d, d.Allowed
}

// settle replaces the reserved estimates with the real usage. A shared
// backend's settlement runs off the request path (the client already has
// its answer); the in-memory limiter's is a few map updates, cheaper than
// the goroutine (and the thread wake-up it costs: ~5 % of the router's CPU
// at 1,000 req/s, issue 8).
func (s *Server) settle(adm *admission, used int64) {
	if s.cfg.Limiter == nil || adm == nil {
		return
	}
	if ratelimit.InMemory(s.cfg.Limiter) {
		s.settleNow(context.Background(), adm, used)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.settleNow(ctx, adm, used)
	}()
}

func (s *Server) settleNow(ctx context.Context, adm *admission, used int64) {
	_ = s.cfg.Limiter.Settle(ctx, adm.key, used)
	last := len(adm.services) - 1
	for i, r := range adm.services {
		n := int64(0) // a failed attempt used no tokens
		if i == last {
			n = used
		}
		_ = s.cfg.Limiter.Settle(ctx, r, n)
	}
}

// rateLimited answers a request the key's limits refused and publishes it
// as a rate_limited usage event (metering counts it apart from requests).
func (s *Server) rateLimited(w http.ResponseWriter, in *inbound, p *plan, d *ratelimit.Decision) {
	c := &call{id: s.newRequestID(), model: p.model, alias: p.alias, consumer: in.who.ID, operation: in.operation,
		start: time.Now(), status: http.StatusTooManyRequests, outcome: outcomeRateLimited,
		reached: d.Source != ratelimit.SourceUnavailable}
	w.Header().Set("X-Request-Id", c.id)
	s.writeRateLimited(w, in, p.model, d)
	s.publish(c)
}

// writeRateLimited answers a denial: 429 with OpenAI's JSON, the
// x-ratelimit-* headers and Retry-After, or 503 when the limiter fails
// closed.
func (s *Server) writeRateLimited(w http.ResponseWriter, in *inbound, model string, d *ratelimit.Decision) {
	d.SetHeaders(w.Header())
	if d.Source == ratelimit.SourceUnavailable {
		metrics.Refused("ratelimit_unavailable", http.StatusServiceUnavailable)
		(&apiError{Status: http.StatusServiceUnavailable, Type: typeAPI, Code: "rate_limit_unavailable",
			Message: "Rate limits cannot be checked right now, and this gateway refuses requests until they can; retry shortly."}).write(w)
		return
	}
	metrics.RateLimited(scopeName(d.Denial.Kind), d.Denial.Dimension.String(), in.who.ID, model)
	(&apiError{Status: http.StatusTooManyRequests, Type: d.Denial.Dimension.String(), Code: "rate_limit_exceeded",
		Message: denialMessage(model, d)}).write(w)
}

// denialMessage words a denial as OpenAI does.
func denialMessage(model string, d *ratelimit.Decision) string {
	unit := "requests per min (RPM)"
	if d.Denial.Dimension == ratelimit.Tokens {
		unit = "tokens per min (TPM)"
	}
	where := scopeWords(d.Denial.Kind)
	if d.TooLarge {
		return "Request too large for " + model + " " + where + " on " + unit + ": Limit " +
			strconv.FormatInt(d.Denial.Limit, 10) + ", Requested " + strconv.FormatInt(d.Denial.Requested, 10) +
			". Reduce the input or max_tokens to run successfully."
	}
	return "Rate limit reached for " + model + " " + where + " on " + unit + ": Limit " +
		strconv.FormatInt(d.Denial.Limit, 10) + ", Used " + strconv.FormatInt(d.Denial.Used, 10) +
		", Requested " + strconv.FormatInt(d.Denial.Requested, 10) + ". Please try again in " +
		d.RetryAfter.Round(time.Millisecond).String() + "."
}

func scopeWords(k ratelimit.Kind) string {
	switch k {
	case ratelimit.KindKeyModel:
		return "for this API key and model"
	case ratelimit.KindService:
		return "on the upstream service"
	}
	return "for this API key"
}

func scopeName(k ratelimit.Kind) string {
	switch k {
	case ratelimit.KindKeyModel:
		return metrics.ScopeKeyModel
	case ratelimit.KindService:
		return metrics.ScopeService
	}
	return metrics.ScopeKey
}
