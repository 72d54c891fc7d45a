package ratelimit

import (
	"math"
	"time"
)

// The bucket arithmetic below is mirrored line for line by the Lua script in
// redis.go; both backends must give the same answers for the same history.
// Times are Unix microseconds so that Lua's doubles hold them exactly.

const windowMicros = int64(Window / time.Microsecond)

// levels is what is left in a scope's request and token buckets. A bucket
// whose dimension is unlimited keeps level 0 and is never consulted.
type levels struct {
	req, tok float64
}

// refill advances a level by elapsed microseconds, capped at the limit.
func refill(v float64, limit int64, elapsed int64) float64 {
	if limit <= 0 {
		return 0
	}
	return min(float64(limit), v+float64(elapsed)*float64(limit)/float64(windowMicros))
}

func fullLevels(l Limits) levels { return levels{req: float64(l.RPM), tok: float64(l.TPM)} }

func refillLevels(lv levels, l Limits, elapsed int64) levels {
	return levels{req: refill(lv.req, l.RPM, elapsed), tok: refill(lv.tok, l.TPM, elapsed)}
}

// admits reports whether one request costing tokens fits in lv.
func admits(l Limits, lv levels, tokens int64) bool {
	return (l.RPM <= 0 || lv.req >= 1) && (l.TPM <= 0 || lv.tok >= float64(tokens))
}

// take removes one request and tokens from lv.
func take(l Limits, lv levels, tokens int64) levels {
	if l.RPM > 0 {
		lv.req--
	}
	if l.TPM > 0 {
		lv.tok -= float64(tokens)
	}
	return lv
}

// adjustTokens applies a settlement: delta > 0 charges, delta < 0 refunds.
// A refund cannot overfill the bucket; debt is bounded to one window so a
// single huge response cannot lock a client out for longer than a minute.
func adjustTokens(lv levels, l Limits, delta int64) levels {
	if l.TPM > 0 {
		lv.tok = max(-float64(l.TPM), min(float64(l.TPM), lv.tok-float64(delta)))
	}
	return lv
}

// fullAfter is how long until both buckets are full again; the bucket's
// state is indistinguishable from a fresh one after that, so it may be dropped.
func fullAfter(l Limits, lv levels) time.Duration {
	return max(wait(float64(l.RPM)-lv.req, l.RPM), wait(float64(l.TPM)-lv.tok, l.TPM))
}

// wait is how long the refill takes to supply missing units, rounded up to
// the millisecond (the resolution of the headers and of Retry-After). The
// float result is first rounded to the microsecond, the clock's resolution,
// so that 0.05000000000000004 of a unit does not read as one extra ms.
func wait(missing float64, limit int64) time.Duration {
	if missing <= 0 || limit <= 0 {
		return 0
	}
	us := int64(math.Round(missing * float64(windowMicros) / float64(limit)))
	return time.Duration((us+999)/1000) * time.Millisecond
}

func quota(limit int64, v float64) Quota {
	if limit <= 0 {
		return Quota{}
	}
	return Quota{Limit: limit, Remaining: max(0, int64(math.Floor(v))), Reset: wait(float64(limit)-v, limit)}
}

// tighter picks the quota to report: the one with the least remaining, then
// the smaller limit. OpenAI reports a single set of headers, so the binding
// scope is the honest one to show.
func tighter(a, b Quota) Quota {
	switch {
	case b.Limit == 0:
		return a
	case a.Limit == 0, b.Remaining < a.Remaining, b.Remaining == a.Remaining && b.Limit < a.Limit:
		return b
	}
	return a
}

// buildDecision turns per-scope levels (after the admission when allowed,
// as found when denied) into a Decision.
func buildDecision(scopes []Scope, lv []levels, tokens int64, allowed bool) Decision {
	d := Decision{Allowed: allowed}
	for i, s := range scopes {
		d.Requests = tighter(d.Requests, quota(s.Limits.RPM, lv[i].req))
		d.Tokens = tighter(d.Tokens, quota(s.Limits.TPM, lv[i].tok))
	}
	if !allowed {
		d.explainDenial(scopes, lv, tokens)
	}
	return d
}

func (d *Decision) explainDenial(scopes []Scope, lv []levels, tokens int64) {
	for i, s := range scopes {
		l := s.Limits
		if l.TPM > 0 && tokens > l.TPM {
			d.TooLarge = true
			d.Denial = Denial{Kind: s.Kind, Dimension: Tokens, Limit: l.TPM, Used: 0, Requested: tokens}
			continue
		}
		if l.RPM > 0 && lv[i].req < 1 {
			d.noteShortage(s.Kind, Requests, l.RPM, lv[i].req, 1)
		}
		if l.TPM > 0 && lv[i].tok < float64(tokens) {
			d.noteShortage(s.Kind, Tokens, l.TPM, lv[i].tok, tokens)
		}
	}
	if d.TooLarge {
		d.RetryAfter = 0
	}
}

// noteShortage keeps the shortage that takes longest to clear: that is when
// a retry can succeed.
func (d *Decision) noteShortage(k Kind, dim Dimension, limit int64, have float64, need int64) {
	w := max(wait(float64(need)-have, limit), time.Millisecond)
	if d.TooLarge || w <= d.RetryAfter {
		return
	}
	d.RetryAfter = w
	d.Denial = Denial{Kind: k, Dimension: dim, Limit: limit, Used: limit - int64(math.Floor(have)), Requested: need}
}

// tooLarge reports whether tokens can never fit some scope's TPM.
func tooLarge(scopes []Scope, tokens int64) bool {
	for _, s := range scopes {
		if s.Limits.TPM > 0 && tokens > s.Limits.TPM {
			return true
		}
	}
	return false
}
