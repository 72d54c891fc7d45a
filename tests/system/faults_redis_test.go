package system

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// limitRPM is the consumer keys' limit in the Redis test.
const limitRPM = 30

// TEST-PLAN F7 with the documented policy (docs/routing.md, fail-open):
// with Redis a key gets its limit across both routers; with Redis
// stopped every answer is still 200 or 429 (no 5xx), each router enforces
// limit / 2 locally, and no request waits on Redis; once Redis is back,
// shared enforcement resumes.
func TestRedisDownRateLimitPolicy(t *testing.T) {
	s := stackFor(t)
	edges := []string{s.edge("router-1"), s.edge("router-2")}
	up := s.burst(t, s.newKey(t, "f7-up@example.com", limitRPM), edges)

	if err := s.boxes["redis"].stop(); err != nil {
		t.Fatal(err)
	}
	down := s.burst(t, s.newKey(t, "f7-down@example.com", limitRPM), edges)
	failOpen := s.routerCounter(t, "switchyard_router_ratelimit_failopen_total")

	if err := s.boxes["redis"].start(); err != nil {
		t.Fatal(err)
	}
	recovery := s.waitSharedLimits(t, edges) // from Redis started
	back := s.burst(t, s.newKey(t, "f7-back@example.com", limitRPM), edges)
	t.Logf("FIGURES F7 Redis stopped, limit %d rpm, 2 routers, 2x%d requests per phase: admitted with Redis %d, Redis down %d (fail-open decisions %.0f), Redis back %d; statuses %v / %v / %v; slowest %v / %v / %v; shared limits again %v after Redis started",
		limitRPM, limitRPM, up.admitted, down.admitted, failOpen, back.admitted, up.statuses, down.statuses, back.statuses,
		up.slowest.Round(time.Millisecond), down.slowest.Round(time.Millisecond), back.slowest.Round(time.Millisecond),
		recovery.Round(100*time.Millisecond))
	for name, b := range map[string]burstResult{"Redis up": up, "Redis down": down, "Redis back": back} {
		if b.other > 0 {
			t.Errorf("%s: %d answers neither 200 nor 429: %v", name, b.other, b.statuses)
		}
		if b.slowest > time.Second {
			t.Errorf("%s: a request took %v", name, b.slowest)
		}
	}
	// Shared: the limit across both routers (+1 for the refill during the burst).
	if up.admitted < limitRPM || up.admitted > limitRPM+1 || back.admitted < limitRPM || back.admitted > limitRPM+1 {
		t.Errorf("with Redis: admitted %d and %d, want %d (+1)", up.admitted, back.admitted, limitRPM)
	}
	// Fail-open: each router limit/2 locally, so the key still gets about its limit.
	if down.admitted < limitRPM/2 || down.admitted > limitRPM+2 || failOpen == 0 {
		t.Errorf("Redis down: admitted %d (fail-open decisions %.0f), want %d..%d", down.admitted, failOpen, limitRPM/2, limitRPM+2)
	}
}

type burstResult struct {
	admitted, limited, other int
	statuses                 map[int]int
	slowest                  time.Duration
}

// burst sends 2 x limitRPM requests in turn to the routers as fast as
// one client goes.
func (s *stack) burst(t *testing.T, k key, edges []string) burstResult {
	t.Helper()
	if err := s.waitServes("router-1", k, fastModel); err != nil {
		t.Fatal(err)
	}
	if err := s.waitServes("router-2", k, fastModel); err != nil {
		t.Fatal(err)
	}
	r := burstResult{statuses: map[int]int{}}
	for i := range 2 * limitRPM {
		began := time.Now()
		status, _, _ := chat(context.Background(), edges[i%len(edges)], k, fastModel, false)
		r.slowest = max(r.slowest, time.Since(began))
		r.statuses[status]++
		switch status {
		case http.StatusOK:
			r.admitted++
		case http.StatusTooManyRequests:
			r.limited++
		default:
			r.other++
		}
	}
	return r
}

// waitSharedLimits returns how long until both routers decide through
// Redis again: their fail-open counters stop moving under requests.
func (s *stack) waitSharedLimits(t *testing.T, edges []string) time.Duration {
	t.Helper()
	began := time.Now()
	k := s.newKey(t, "f7-probe@example.com", 100000)
	for _, r := range []string{"router-1", "router-2"} {
		if err := s.waitServes(r, k, fastModel); err != nil {
			t.Fatal(err)
		}
	}
	for time.Since(began) < time.Minute {
		before := s.routerCounter(t, "switchyard_router_ratelimit_failopen_total")
		for _, e := range edges {
			_, _, _ = chat(context.Background(), e, k, fastModel, false)
		}
		if s.routerCounter(t, "switchyard_router_ratelimit_failopen_total") == before {
			return time.Since(began)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("routers still failing open a minute after Redis started")
	return 0
}

// routerCounter sums a counter over both routers' /metrics.
func (s *stack) routerCounter(t *testing.T, name string) float64 {
	t.Helper()
	var sum float64
	for _, r := range []string{"router-1", "router-2"} {
		resp, err := http.Get("http://" + s.boxes[r].hostAddr("9104/tcp") + "/metrics")
		if err != nil {
			t.Fatalf("%s /metrics: %v", r, err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
				if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
					sum += v
				}
			}
		}
		resp.Body.Close()
	}
	return sum
}
