// Package ratelimit enforces requests-per-minute and tokens-per-minute
// limits over several scopes at once (per consumer key, per key+model, per
// service) for the router edge.
//
// Every limit is a token bucket that holds one minute's allowance and refills
// continuously, so a client may burst up to its per-minute limit and then
// proceeds at limit/60 per second. An admission checks every scope and takes
// one request plus the token estimate from each, or takes nothing at all.
// After the upstream answers, Settle corrects the token buckets with the real
// usage (a refund, or an extra charge that may leave a bucket in debt).
//
// Backends share the Limiter interface: Memory (one replica, lock-sharded),
// Redis (one atomic Lua script per call, correct across replicas) and
// Failover, which puts a timeout, a circuit breaker and a fail-open (or
// fail-closed) policy around a remote backend.
package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Window is the period the limits are expressed in.
const Window = time.Minute

// MaxScopes is the most scopes one admission may check.
const MaxScopes = 4

// ErrTooManyScopes is returned when an admission names more than MaxScopes scopes.
var ErrTooManyScopes = errors.New("ratelimit: too many scopes in one admission")

// Limiter admits requests and settles their token usage.
type Limiter interface {
	// Admit checks every scope and, only if all allow it, reserves one
	// request and tokens in each. A denial is a Decision, not an error;
	// errors mean the backend could not decide.
	Admit(ctx context.Context, scopes []Scope, tokens int64) (Decision, error)
	// Settle replaces the reserved token estimate with usedTokens.
	Settle(ctx context.Context, r Reservation, usedTokens int64) error
}

// InMemory reports whether l decides in this process without I/O (the
// Memory limiter), so its calls can run inline where a shared backend's
// would be moved off the request path.
func InMemory(l Limiter) bool {
	_, ok := l.(*Memory)
	return ok
}

// Kind says what a scope limits.
type Kind uint8

// Scope kinds.
const (
	KindKey      Kind = iota + 1 // one consumer key
	KindKeyModel                 // one consumer key on one model
	KindService                  // one upstream service, all consumers
	KindCustom                   // anything else the router invents
)

// String returns a short stable name, used in logs and Redis keys.
func (k Kind) String() string {
	switch k {
	case KindKey:
		return "key"
	case KindKeyModel:
		return "keymodel"
	case KindService:
		return "service"
	case KindCustom:
		return "custom"
	}
	return "unknown"
}

// Limits are per-minute budgets; zero means unlimited in that dimension.
type Limits struct {
	RPM int64 // requests per minute
	TPM int64 // tokens per minute
}

// Scope is one bucket pair to check. ID and Model are opaque: any bytes are
// safe (keys are hashed for Redis). ID must never be a secret; use the
// consumer key's id or hash, not the key.
type Scope struct {
	Kind   Kind
	ID     string
	Model  string // only for KindKeyModel (or KindCustom)
	Limits Limits
}

// KeyScope limits one consumer key.
func KeyScope(keyID string, l Limits) Scope { return Scope{Kind: KindKey, ID: keyID, Limits: l} }

// KeyModelScope limits one consumer key on one model.
func KeyModelScope(keyID, model string, l Limits) Scope {
	return Scope{Kind: KindKeyModel, ID: keyID, Model: model, Limits: l}
}

// ServiceScope limits one upstream service across all consumers.
func ServiceScope(serviceID string, l Limits) Scope {
	return Scope{Kind: KindService, ID: serviceID, Limits: l}
}

// Dimension is what ran out.
type Dimension uint8

// Dimensions.
const (
	Requests Dimension = iota + 1
	Tokens
)

// String returns "requests" or "tokens", as in OpenAI's 429 type.
func (d Dimension) String() string {
	if d == Tokens {
		return "tokens"
	}
	return "requests"
}

// Source says who decided.
type Source uint8

// Decision sources.
const (
	SourcePrimary     Source = iota // the configured backend (Memory or Redis)
	SourceLocal                     // Failover's local limiter while the primary is away
	SourceUnavailable               // Failover in fail-closed mode while the primary is away
)

// Quota is one dimension's state for the x-ratelimit-* headers. Limit is 0
// when no scope limits the dimension.
type Quota struct {
	Limit     int64
	Remaining int64         // never negative
	Reset     time.Duration // until the bucket is full again
}

// Denial explains a refusal in the terms of OpenAI's 429 message.
type Denial struct {
	Kind      Kind
	Dimension Dimension
	Limit     int64
	Used      int64 // Limit minus what was left (includes debt)
	Requested int64 // 1 for requests, the token estimate for tokens
}

// Decision is the answer to one admission.
type Decision struct {
	Allowed     bool
	RetryAfter  time.Duration // when denied and retrying can help
	TooLarge    bool          // the estimate exceeds a TPM limit: retrying cannot help
	Denial      Denial        // set when denied
	Requests    Quota         // the most constrained request bucket
	Tokens      Quota         // the most constrained token bucket
	Source      Source
	Reservation Reservation // pass to Settle when Allowed
}

// Reservation remembers what an admission took, for Settle. The zero value
// settles nothing.
type Reservation struct {
	scopes [MaxScopes]Scope
	n      uint8
	origin Source
	tokens int64
}

// Tokens returns the reserved token estimate.
func (r Reservation) Tokens() int64 { return r.tokens }

func newReservation(scopes []Scope, tokens int64, origin Source) Reservation {
	r := Reservation{n: uint8(len(scopes)), origin: origin, tokens: tokens}
	copy(r.scopes[:], scopes)
	return r
}

func (r *Reservation) list() []Scope { return r.scopes[:r.n] }

func checkScopes(scopes []Scope, tokens int64) (int64, error) {
	if len(scopes) > MaxScopes {
		return 0, ErrTooManyScopes
	}
	return max(tokens, 0), nil
}

// Header names, in canonical form so that setting them skips canonicalisation.
const (
	HeaderLimitRequests     = "X-Ratelimit-Limit-Requests"
	HeaderRemainingRequests = "X-Ratelimit-Remaining-Requests"
	HeaderResetRequests     = "X-Ratelimit-Reset-Requests"
	HeaderLimitTokens       = "X-Ratelimit-Limit-Tokens"
	HeaderRemainingTokens   = "X-Ratelimit-Remaining-Tokens"
	HeaderResetTokens       = "X-Ratelimit-Reset-Tokens"
	HeaderRetryAfter        = "Retry-After"
	HeaderRetryAfterMs      = "Retry-After-Ms"
)

// SetHeaders writes OpenAI's x-ratelimit-* headers for each limited
// dimension (resets as Go durations, e.g. "1s", "6m0s", as OpenAI sends
// them) and, on a denial that a retry can cure, Retry-After in whole seconds
// (rounded up) plus retry-after-ms, which the OpenAI SDKs prefer.
func (d *Decision) SetHeaders(h http.Header) {
	setQuota(h, d.Requests, HeaderLimitRequests, HeaderRemainingRequests, HeaderResetRequests)
	setQuota(h, d.Tokens, HeaderLimitTokens, HeaderRemainingTokens, HeaderResetTokens)
	if d.Allowed || d.TooLarge || d.RetryAfter <= 0 {
		return
	}
	secs := (d.RetryAfter + time.Second - 1) / time.Second
	h[HeaderRetryAfter] = []string{strconv.FormatInt(int64(secs), 10)}
	h[HeaderRetryAfterMs] = []string{strconv.FormatInt(d.RetryAfter.Milliseconds(), 10)}
}

func setQuota(h http.Header, q Quota, limit, remaining, reset string) {
	if q.Limit <= 0 {
		return
	}
	h[limit] = []string{strconv.FormatInt(q.Limit, 10)}
	h[remaining] = []string{strconv.FormatInt(q.Remaining, 10)}
	h[reset] = []string{q.Reset.String()}
}
