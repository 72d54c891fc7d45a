package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

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
