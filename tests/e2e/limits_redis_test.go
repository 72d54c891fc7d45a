package e2e

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// redisProcess is a real redis-server owned by one test.
type redisProcess struct {
	addr string
	cmd  *exec.Cmd
}

// startRedisServer runs redis-server (Debian package redis-server) on a
// free loopback port, persistence off, and waits until it accepts
// connections.
func startRedisServer(t *testing.T) *redisProcess {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not in PATH (apt-get install -y redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	r := &redisProcess{addr: "127.0.0.1:" + strconv.Itoa(port)}
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	harness.Eventually(t, 10*time.Second, "redis-server up", func() bool {
		c, err := net.DialTimeout("tcp", r.addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return r
}

// stop kills the server (a crash, not a shutdown).
func (r *redisProcess) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// startReplicas runs the control plane and three router replicas sharing
// one NATS and one Redis, and returns the replicas' edge URLs.
func startReplicas(t *testing.T, redisAddr string) (*harness.Gateway, []string) {
	t.Helper()
	cfg, common := gatewayConfig(t, func(c *gatewayapp.Config) {
		c.Router.Limits.RedisURL = "redis://" + redisAddr
		if err := c.Router.Keys.Auth.Set("on"); err != nil {
			t.Fatal(err)
		}
	})
	log := discardLogger()
	g := startGateway(t, cfg, common, log,
		[]string{gatewayapp.TargetCredential, gatewayapp.TargetHealthcheck, gatewayapp.TargetRegistry, gatewayapp.TargetMetering},
		[]string{gatewayapp.TargetRouter})
	urls := []string{g.EdgeURL}
	common.NATS.URL = g.NATSURL
	for range 2 {
		c := cfg
		c.EmbedNATS, c.Targets = false, []string{gatewayapp.TargetRouter}
		gw := runTargets(t, c, common, log)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		addr, err := gw.Router.Addr(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, "http://"+addr)
	}
	return g, urls
}

// burst is the outcome of sending requests round-robin over replicas.
type burst struct {
	ok, limited, other int64
	perReplica         []int64 // answers 200, by replica
	took, slowest      time.Duration
	firstOther         string // the first error that was not a 429
}

func sendBurst(urls []string, key string, n, workers int) burst {
	b := burst{perReplica: make([]int64, len(urls))}
	var ok, limited, other atomic.Int64
	var slowest atomic.Int64
	var firstOther atomic.Value
	perReplica := make([]atomic.Int64, len(urls))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				r := int(i) % len(urls)
				client := openai.NewClient(option.WithBaseURL(urls[r]+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
				began := time.Now()
				_, err := client.Chat.Completions.New(context.Background(), userChat(model, "hi"))
				if d := int64(time.Since(began)); d > slowest.Load() {
					slowest.Store(d)
				}
				switch status, _ := apiStatus(err); {
				case err == nil:
					ok.Add(1)
					perReplica[r].Add(1)
				case status == http.StatusTooManyRequests:
					limited.Add(1)
				default:
					if other.Add(1) == 1 {
						firstOther.Store(err.Error())
					}
				}
			}
		})
	}
	wg.Wait()
	b.ok, b.limited, b.other, b.took, b.slowest = ok.Load(), limited.Load(), other.Load(), time.Since(start), time.Duration(slowest.Load())
	for i := range perReplica {
		b.perReplica[i] = perReplica[i].Load()
	}
	if v, ok := firstOther.Load().(string); ok {
		b.firstOther = v
	}
	return b
}

// waitKeyOnReplicas waits until every replica's key snapshot has key (one
// KV watch delivery), using GET /v1/models, which no limit counts.
func waitKeyOnReplicas(t *testing.T, urls []string, key string) {
	t.Helper()
	for _, u := range urls {
		harness.Eventually(t, 5*time.Second, "key known to "+u, func() bool {
			req, _ := http.NewRequest(http.MethodGet, u+"/v1/models", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := harness.HTTPClient.Do(req)
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
}

// refill is how many requests a per-minute limit grants back during d
// (the bucket refills continuously), rounded up.
func refill(limit int64, d time.Duration) int64 {
	return int64(float64(limit)*d.Minutes()) + 1
}

// TestLimitsAcrossReplicasWithRedis: three router replicas share one
// Redis. A key with 60 rpm gets at most 60 plus the refill during the
// burst across all three. With Redis killed, every replica fails open to
// its local limiter: the key gets at most 60 per replica (limit ×
// replicas, plus refill), and every answer is 200 or 429, never an error.
func TestLimitsAcrossReplicasWithRedis(t *testing.T) {
	const rpm = 60
	redis := startRedisServer(t)
	g, urls := startReplicas(t, redis.addr)
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	if _, err := register(t, g, "shared", up.URL, providerKey); err != nil {
		t.Fatal(err)
	}
	warm := createKey(t, g, "--owner", "ops@lab.example")
	for _, u := range urls {
		harness.Eventually(t, 5*time.Second, "replica "+u+" routes", func() bool {
			return sendBurst([]string{u}, warm, 1, 1).ok == 1
		})
	}

	shared := createKey(t, g, "--owner", "ana@lab.example", "--rpm", strconv.Itoa(rpm))
	waitKeyOnReplicas(t, urls, shared)
	localBefore := counterValue("switchyard_router_ratelimit_failopen_total")
	b := sendBurst(urls, shared, 5*rpm, 6)
	// A Redis call slower than the failover timeout (20 ms; a loaded CI
	// machine gets there) is decided by that replica's local limiter, as
	// designed: each such decision may admit one request beyond the shared
	// limit. They must stay rare while Redis is up.
	local := int64(counterValue("switchyard_router_ratelimit_failopen_total") - localBefore)
	bound := rpm + refill(rpm, b.took) + local
	t.Logf("Redis up: %d requests over 3 replicas in %v: %d allowed (per replica %v), %d limited, %d other; bound %d (%d decided locally after a slow Redis call), slowest %v",
		5*rpm, b.took.Round(time.Millisecond), b.ok, b.perReplica, b.limited, b.other, bound, local, b.slowest.Round(time.Millisecond))
	if b.ok < rpm || b.ok > bound || b.other != 0 {
		t.Errorf("shared limit: %d allowed, want %d..%d; %d non-429 errors (first: %s)", b.ok, rpm, bound, b.other, b.firstOther)
	}
	if local > rpm/2 {
		t.Errorf("%d of %d decisions made without Redis while it was up", local, 5*rpm)
	}

	redis.stop()
	failOpenBefore := counterValue("switchyard_router_ratelimit_failopen_total")
	fresh := createKey(t, g, "--owner", "bo@lab.example", "--rpm", strconv.Itoa(rpm))
	waitKeyOnReplicas(t, urls, fresh)
	b = sendBurst(urls, fresh, 10*rpm, 6)
	bound = int64(len(urls)) * (rpm + refill(rpm, b.took))
	t.Logf("Redis down: %d requests in %v: %d allowed (per replica %v), %d limited, %d other; bound limit × replicas = %d, slowest %v; fail-open decisions %v",
		10*rpm, b.took.Round(time.Millisecond), b.ok, b.perReplica, b.limited, b.other, bound, b.slowest.Round(time.Millisecond),
		counterValue("switchyard_router_ratelimit_failopen_total")-failOpenBefore)
	if b.other != 0 {
		t.Errorf("%d requests failed with something other than 429 while Redis was down (first: %s)", b.other, b.firstOther)
	}
	if b.ok > bound || b.ok <= rpm {
		t.Errorf("fail-open: %d allowed, want more than %d (local limiters) and at most %d", b.ok, rpm, bound)
	}
	for i, n := range b.perReplica {
		if n > rpm+refill(rpm, b.took) {
			t.Errorf("replica %d allowed %d, over its local cap of %d", i, n, rpm+refill(rpm, b.took))
		}
	}
}
