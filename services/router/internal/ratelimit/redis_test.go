package ratelimit

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisKeysAreHashedAndExpire covers TEST-PLAN I7: hostile identifiers
// never shape or collide key names, and every key carries a TTL.
func TestRedisKeysAreHashedAndExpire(t *testing.T) {
	srv := startRedis(t)
	client := srv.client()
	prefix := uniquePrefix()
	lim := mustRedis(t, client, RedisOptions{Prefix: prefix})
	ids := []string{"gpt-4.>", "a*b", "../x", " white space\t", "line\nbreak", strings.Repeat("m", 10_000),
		"tenant.with.dots", "a:b", "a", "{slot}", ""}
	ctx := context.Background()
	want := 0
	for _, id := range ids {
		for _, s := range []Scope{KeyScope(id, Limits{RPM: 5}), KeyModelScope("k", id, Limits{TPM: 50}),
			ServiceScope(id, Limits{RPM: 5, TPM: 50})} {
			if d, err := lim.Admit(ctx, []Scope{s}, 1); err != nil || !d.Allowed {
				t.Fatalf("Admit(%q) = %+v, %v", id, d, err)
			}
			want++
		}
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != want {
		t.Fatalf("%d keys for %d distinct scopes: collisions", len(keys), want)
	}
	shape := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(key|keymodel|service):[A-Za-z0-9_-]{24}$`)
	for _, k := range keys {
		ttl, err := client.PTTL(ctx, k).Result()
		if !shape.MatchString(k) || err != nil || ttl <= 0 || ttl > Window+time.Second {
			t.Fatalf("key %q: ttl %v err %v", k, ttl, err)
		}
	}
}

func TestRedisReloadsFlushedScript(t *testing.T) {
	srv := startRedis(t)
	client := srv.client()
	lim := mustRedis(t, client, RedisOptions{Prefix: uniquePrefix()})
	ctx := context.Background()
	scopes := []Scope{KeyScope("k", Limits{RPM: 2})}
	for i, wantLeft := range []int64{1, 0} {
		if i == 1 {
			if err := client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		d, err := lim.Admit(ctx, scopes, 0)
		if err != nil || !d.Allowed || d.Requests.Remaining != wantLeft {
			t.Fatalf("admission %d = %+v, %v", i, d, err)
		}
	}
}

// TestRedisReplicasHoldLimit runs three limiter instances (as three router
// replicas would, each with its own connection pool) against one Redis.
// Documented bound: over a run of length T, a scope admits at most
// RPM + RPM×T/60s (+1 for the partial unit), the token bucket's exact
// allowance; replicas on one host have no clock skew to add.
func TestRedisReplicasHoldLimit(t *testing.T) {
	srv := startRedis(t)
	prefix := uniquePrefix()
	const rpm = 300
	scopes := []Scope{KeyScope("shared", Limits{RPM: rpm}), ServiceScope("svc", Limits{RPM: 100_000})}
	var allowed, denied atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(time.Second)
	for range 3 {
		lim := mustRedis(t, srv.client(), RedisOptions{Prefix: prefix})
		for range 6 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					d, err := lim.Admit(context.Background(), scopes, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					} else {
						denied.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	bound := rpm + int64(float64(rpm)*elapsed.Seconds()/60) + 1
	if got := allowed.Load(); got < rpm || got > bound {
		t.Fatalf("admitted %d in %v (denied %d); want between %d and %d", got, elapsed, denied.Load(), rpm, bound)
	}
	if denied.Load() == 0 {
		t.Fatal("demand never exceeded the limit; the test proves nothing")
	}
}

func TestNewRedisRefusesUnsafeClient(t *testing.T) {
	tests := []struct {
		name string
		opts *redis.Options
		ok   bool
	}{
		{"go-redis defaults", &redis.Options{Addr: "127.0.0.1:1"}, false},
		{"retries on", &redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}, false},
		{"ClientOptions", ClientOptions(&redis.Options{Addr: "127.0.0.1:1"}), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := redis.NewClient(tc.opts)
			defer c.Close()
			_, err := NewRedis(c, RedisOptions{})
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrClientConfig)) {
				t.Fatalf("NewRedis err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
