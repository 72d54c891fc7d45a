package health

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestBreakers(cfg Config) (*Breakers, *clock) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(cfg)
	b.now = clk.now
	return b, clk
}

// step is one thing that happens to the "a" circuit.
type step struct {
	advance    time.Duration
	record     *Outcome
	retryAfter time.Duration
	wantAllow  *bool // checked after the step (Allow may reserve the probe)
	wantState  State
}

func rec(o Outcome) *Outcome { return &o }
func yes() *bool             { b := true; return &b }
func no() *bool              { b := false; return &b }

func TestCircuitTransitions(t *testing.T) {
	fail, ok, limited := rec(Failure), rec(Success), rec(RateLimited)
	cfg := Config{FailureThreshold: 3, CoolDown: 10 * time.Second}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"opens after N consecutive failures", []step{
			{record: fail, wantState: Closed}, {record: fail, wantState: Closed},
			{record: fail, wantState: Open, wantAllow: no()},
		}},
		{"a success resets the count", []step{
			{record: fail}, {record: fail}, {record: ok}, {record: fail}, {record: fail, wantState: Closed, wantAllow: yes()},
		}},
		{"half-open lets exactly one request through and closes on success", []step{
			{record: fail}, {record: fail}, {record: fail},
			{advance: 9 * time.Second, wantAllow: no()},
			{advance: time.Second, wantAllow: yes(), wantState: HalfOpen},
			{wantAllow: no(), wantState: HalfOpen},
			{record: ok, wantState: Closed, wantAllow: yes()},
		}},
		{"half-open probe failing opens again for a cool-down", []step{
			{record: fail}, {record: fail}, {record: fail},
			{advance: 10 * time.Second, wantAllow: yes()},
			{record: fail, wantState: Open, wantAllow: no()},
			{advance: 10 * time.Second, wantAllow: yes(), wantState: HalfOpen},
		}},
		{"a lost half-open probe is replaced after a cool-down", []step{
			{record: fail}, {record: fail}, {record: fail},
			{advance: 10 * time.Second, wantAllow: yes()},
			{advance: 9 * time.Second, wantAllow: no()},
			{advance: time.Second, wantAllow: yes()},
		}},
		{"429 with Retry-After stops traffic until then, then one probe", []step{
			{record: limited, retryAfter: 20 * time.Second, wantState: Open, wantAllow: no()},
			{advance: 19 * time.Second, wantAllow: no()},
			{advance: time.Second, wantAllow: yes(), wantState: HalfOpen},
			{wantAllow: no()},
		}},
		{"a success from an older request does not cut a Retry-After short", []step{
			{record: limited, retryAfter: 20 * time.Second},
			{advance: time.Second, record: ok, wantState: Open, wantAllow: no()},
		}},
		{"429 without Retry-After leaves the circuit closed", []step{
			{record: limited, wantState: Closed, wantAllow: yes()},
		}},
		{"Retry-After is capped", []step{
			{record: limited, retryAfter: 24 * time.Hour, wantState: Open},
			{advance: time.Minute, wantAllow: yes()},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, clk := newTestBreakers(Config{FailureThreshold: cfg.FailureThreshold, CoolDown: cfg.CoolDown, MaxRetryAfter: time.Minute})
			for i, s := range tc.steps {
				clk.advance(s.advance)
				if s.record != nil {
					b.Record("a", *s.record, s.retryAfter)
				}
				if s.wantAllow != nil {
					if got := b.Allow("a"); got != *s.wantAllow {
						t.Fatalf("step %d: Allow = %v, want %v", i, got, *s.wantAllow)
					}
				}
				if s.wantState != "" {
					if got := b.Snapshot()[0].State; got != s.wantState {
						t.Fatalf("step %d: state %s, want %s", i, got, s.wantState)
					}
				}
			}
		})
	}
}

func TestOutcomeOf(t *testing.T) {
	for status, want := range map[int]Outcome{
		200: Success, 400: Success, 401: Success, 404: Success, 429: RateLimited,
		500: Failure, 502: Failure, 503: Failure, 529: Failure,
	} {
		if got := OutcomeOf(status); got != want {
			t.Errorf("OutcomeOf(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestSnapshotAndRetryIn(t *testing.T) {
	b, clk := newTestBreakers(Config{})
	b.Record("b", Success, 0)
	b.Record("a", RateLimited, 20*time.Second)
	clk.advance(5 * time.Second)
	snap := b.Snapshot()
	if len(snap) != 2 || snap[0].Service != "a" || snap[1].Service != "b" {
		t.Fatalf("snapshot not sorted by service: %+v", snap)
	}
	if a := snap[0]; a.State != Open || a.Opens != 1 || a.OpenUntil.Sub(clk.t) != 15*time.Second || a.Reason == "" {
		t.Errorf("a = %+v", a)
	}
	if got := b.RetryIn("a"); got != 15*time.Second {
		t.Errorf("RetryIn = %v", got)
	}
	b.Forget(func(s string) bool { return s == "a" })
	if snap := b.Snapshot(); len(snap) != 1 || snap[0].Service != "a" {
		t.Errorf("Forget kept %+v", snap)
	}
}

func TestNilBreakersAllowEverything(t *testing.T) {
	var b *Breakers
	b.Record("a", Failure, 0)
	if !b.Allow("a") || b.RetryIn("a") != 0 {
		t.Fatal("nil breakers refused traffic")
	}
}

// Many goroutines racing on an open circuit whose time has passed: exactly
// one gets the half-open probe.
func TestHalfOpenAdmitsOneUnderConcurrency(t *testing.T) {
	b, clk := newTestBreakers(Config{FailureThreshold: 1, CoolDown: time.Second})
	b.Record("a", Failure, 0)
	clk.advance(time.Second)
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if b.Allow("a") {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Fatalf("%d requests admitted while half-open, want 1", n)
	}
	if OutcomeOf(http.StatusOK) != Success {
		t.Fatal("200 is not a success")
	}
}

func BenchmarkAllowRecordClosed(b *testing.B) {
	br := New(Config{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if br.Allow("svc") {
				br.Record("svc", Success, 0)
			}
		}
	})
}

// RecordCall reads real HTTP answers: 5xx counts toward opening, a 429's
// Retry-After header opens the circuit for that long, a transport error is
// a failure, and a client that left is not held against the upstream.
func TestRecordCallFromRealResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ra := r.URL.Query().Get("retry_after"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	call := func(query string) *http.Response {
		resp, err := srv.Client().Get(srv.URL + "/?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	b, clk := newTestBreakers(Config{FailureThreshold: 2, CoolDown: 10 * time.Second})
	b.RecordCall("a", nil, errors.New("connection refused"), true)
	b.RecordCall("a", call("status=503"), nil, false)
	if !b.Allow("a") {
		t.Fatal("opened before the threshold (a departed client was counted)")
	}
	b.RecordCall("a", nil, errors.New("connection refused"), false)
	if b.Allow("a") {
		t.Fatal("not open after 503 and a connect failure")
	}
	clk.advance(10 * time.Second)
	if !b.Allow("a") {
		t.Fatal("no half-open probe after the cool-down")
	}
	b.RecordCall("a", call("status=200"), nil, false)
	b.RecordCall("a", call("status=429&retry_after=7"), nil, false)
	if got := b.RetryIn("a"); got != 7*time.Second {
		t.Fatalf("Retry-After 7 gave RetryIn %v", got)
	}
}
