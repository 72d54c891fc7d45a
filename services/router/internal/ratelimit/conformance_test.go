package ratelimit

import (
	"context"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// step is one admission (after advancing the clock) and what it must yield.
// settle >= 0 settles an allowed admission with that many used tokens.
type step struct {
	advance   time.Duration
	scopes    []Scope
	tokens    int64
	settle    int64
	allowed   bool
	retry     time.Duration
	reqLeft   int64 // Decision.Requests.Remaining
	tokLeft   int64 // Decision.Tokens.Remaining
	tooLarge  bool
	deniedDim Dimension
}

type backendFactory func(t *testing.T, clock *fakeClock) Limiter

func backends(t *testing.T) map[string]backendFactory {
	srv := startRedis(t)
	client := srv.client()
	return map[string]backendFactory{
		"memory": func(_ *testing.T, c *fakeClock) Limiter { return NewMemory(MemoryOptions{Now: c.Now}) },
		"redis": func(t *testing.T, c *fakeClock) Limiter {
			return mustRedis(t, client, RedisOptions{Prefix: uniquePrefix(), Now: c.Now})
		},
	}
}

var (
	rpm3      = []Scope{KeyScope("k1", Limits{RPM: 3})}
	tpm1000   = []Scope{KeyScope("k1", Limits{TPM: 1000})}
	keyAndSvc = []Scope{KeyScope("k1", Limits{RPM: 10}), ServiceScope("svc", Limits{RPM: 1})}
	keyOnly   = []Scope{KeyScope("k1", Limits{RPM: 10})}
)

var conformance = map[string][]step{
	"requests burst, then exact refill": {
		{scopes: rpm3, settle: -1, allowed: true, reqLeft: 2},
		{scopes: rpm3, settle: -1, allowed: true, reqLeft: 1},
		{scopes: rpm3, settle: -1, allowed: true, reqLeft: 0},
		{scopes: rpm3, settle: -1, retry: 20 * time.Second, deniedDim: Requests},
		{advance: 19 * time.Second, scopes: rpm3, settle: -1, retry: time.Second, deniedDim: Requests},
		{advance: time.Second, scopes: rpm3, settle: -1, allowed: true, reqLeft: 0},
	},
	"tokens reserved then refunded": {
		{scopes: tpm1000, tokens: 400, settle: -1, allowed: true, tokLeft: 600},
		{scopes: tpm1000, tokens: 400, settle: 100, allowed: true, tokLeft: 200},
		{scopes: tpm1000, tokens: 600, settle: -1, retry: 6 * time.Second, tokLeft: 500, deniedDim: Tokens},
		{scopes: tpm1000, tokens: 500, settle: -1, allowed: true, tokLeft: 0},
	},
	"a charge beyond the estimate leaves debt": {
		{scopes: tpm1000, tokens: 100, settle: 1600, allowed: true, tokLeft: 900},
		{scopes: tpm1000, tokens: 1, settle: -1, retry: 36060 * time.Millisecond, deniedDim: Tokens},
		{advance: 36060 * time.Millisecond, scopes: tpm1000, tokens: 1, settle: -1, allowed: true, tokLeft: 0},
	},
	"all scopes or none": {
		{scopes: keyAndSvc, settle: -1, allowed: true, reqLeft: 0},
		{scopes: keyAndSvc, settle: -1, retry: 60 * time.Second, deniedDim: Requests},
		{scopes: keyOnly, settle: -1, allowed: true, reqLeft: 8},
	},
	"an estimate above the limit is too large": {
		{scopes: tpm1000, tokens: 1001, settle: -1, tooLarge: true, tokLeft: 1000, deniedDim: Tokens},
		{scopes: tpm1000, tokens: 1000, settle: -1, allowed: true, tokLeft: 0},
	},
	"unlimited scopes always pass": {
		{scopes: []Scope{KeyScope("k1", Limits{})}, tokens: 1 << 40, settle: 5, allowed: true},
	},
	"lookalike identifiers are distinct buckets": {
		{scopes: []Scope{KeyModelScope("k", "a.b", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyModelScope("k", "a:b", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyModelScope("k", "a/b", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyModelScope("k/a", "b", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyModelScope("k:a", "b", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyScope("k", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{ServiceScope("k", Limits{RPM: 1})}, settle: -1, allowed: true},
		{scopes: []Scope{KeyModelScope("k", "a.b", Limits{RPM: 1})}, settle: -1, retry: time.Minute, deniedDim: Requests},
	},
}

func TestConformance(t *testing.T) {
	for backend, newLimiter := range backends(t) {
		for name, steps := range conformance {
			t.Run(backend+"/"+name, func(t *testing.T) {
				clock := newFakeClock()
				lim := newLimiter(t, clock)
				for i, st := range steps {
					clock.Advance(st.advance)
					checkStep(t, lim, i, st)
				}
			})
		}
	}
}

func checkStep(t *testing.T, lim Limiter, i int, st step) {
	t.Helper()
	ctx := context.Background()
	d, err := lim.Admit(ctx, st.scopes, st.tokens)
	if err != nil {
		t.Fatalf("step %d: Admit: %v", i, err)
	}
	if d.Allowed != st.allowed || d.RetryAfter != st.retry || d.TooLarge != st.tooLarge ||
		d.Requests.Remaining != st.reqLeft || d.Tokens.Remaining != st.tokLeft {
		t.Fatalf("step %d: got %+v\nwant allowed=%v retry=%v tooLarge=%v reqLeft=%d tokLeft=%d",
			i, d, st.allowed, st.retry, st.tooLarge, st.reqLeft, st.tokLeft)
	}
	if !d.Allowed && d.Denial.Dimension != st.deniedDim {
		t.Fatalf("step %d: denied on %v, want %v", i, d.Denial.Dimension, st.deniedDim)
	}
	if st.settle >= 0 {
		if err := lim.Settle(ctx, d.Reservation, st.settle); err != nil {
			t.Fatalf("step %d: Settle: %v", i, err)
		}
	}
}

// TestBackendsAgree drives Memory and Redis through the same random history
// and requires identical decisions: the Lua script mirrors bucket.go exactly.
func TestBackendsAgree(t *testing.T) {
	srv := startRedis(t)
	clock := newFakeClock()
	mem := NewMemory(MemoryOptions{Now: clock.Now})
	red := mustRedis(t, srv.client(), RedisOptions{Prefix: uniquePrefix(), Now: clock.Now})
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []Scope{
		KeyScope("a", Limits{RPM: 7, TPM: 5000}),
		KeyModelScope("a", "m.1", Limits{RPM: 3, TPM: 2000}),
		ServiceScope("s", Limits{RPM: 11}),
		KeyScope("b", Limits{TPM: 900}),
	}
	ctx := context.Background()
	for i := range 600 {
		clock.Advance(time.Duration(rng.IntN(3000)) * time.Millisecond)
		scopes := pool[:1+rng.IntN(len(pool))]
		tokens := int64(rng.IntN(1200))
		dm, err1 := mem.Admit(ctx, scopes, tokens)
		dr, err2 := red.Admit(ctx, scopes, tokens)
		if err1 != nil || err2 != nil {
			t.Fatalf("step %d: %v / %v", i, err1, err2)
		}
		if dm.Allowed != dr.Allowed || dm.RetryAfter != dr.RetryAfter || dm.Requests != dr.Requests ||
			dm.Tokens != dr.Tokens || dm.Denial != dr.Denial || dm.TooLarge != dr.TooLarge {
			t.Fatalf("step %d: memory %+v\nredis  %+v", i, dm, dr)
		}
		if dm.Allowed && rng.IntN(2) == 0 {
			used := int64(rng.IntN(2000))
			if err := errorsJoin(mem.Settle(ctx, dm.Reservation, used), red.Settle(ctx, dr.Reservation, used)); err != nil {
				t.Fatalf("step %d: settle: %v", i, err)
			}
		}
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func TestSetHeaders(t *testing.T) {
	tests := []struct {
		name string
		d    Decision
		want http.Header
	}{
		{"allowed, both dimensions", Decision{Allowed: true,
			Requests: Quota{Limit: 60, Remaining: 59, Reset: time.Second},
			Tokens:   Quota{Limit: 150000, Remaining: 149984, Reset: 6 * time.Minute}},
			http.Header{
				"X-Ratelimit-Limit-Requests": {"60"}, "X-Ratelimit-Remaining-Requests": {"59"},
				"X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Limit-Tokens": {"150000"},
				"X-Ratelimit-Remaining-Tokens": {"149984"}, "X-Ratelimit-Reset-Tokens": {"6m0s"},
			}},
		{"denied with retry", Decision{RetryAfter: 1500 * time.Millisecond,
			Requests: Quota{Limit: 3, Remaining: 0, Reset: 20 * time.Millisecond}},
			http.Header{
				"X-Ratelimit-Limit-Requests": {"3"}, "X-Ratelimit-Remaining-Requests": {"0"},
				"X-Ratelimit-Reset-Requests": {"20ms"}, "Retry-After": {"2"}, "Retry-After-Ms": {"1500"},
			}},
		{"too large has no retry", Decision{TooLarge: true, RetryAfter: 0}, http.Header{}},
		{"unlimited sets nothing", Decision{Allowed: true}, http.Header{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.d.SetHeaders(h)
			if !reflect.DeepEqual(h, tc.want) {
				t.Fatalf("got %v\nwant %v", h, tc.want)
			}
			if tc.want.Get("x-ratelimit-limit-requests") != h.Get("X-RateLimit-Limit-Requests") {
				t.Fatal("header keys are not canonical")
			}
		})
	}
}
