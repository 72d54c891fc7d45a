package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
)

// routerScopes is what the edge checks per request: key, key+model, service.
func routerScopes(key string) []Scope {
	return []Scope{
		KeyScope(key, Limits{RPM: 1 << 40, TPM: 1 << 50}),
		KeyModelScope(key, "gpt-4o-mini", Limits{RPM: 1 << 40, TPM: 1 << 50}),
		ServiceScope("openai-prod", Limits{RPM: 1 << 40, TPM: 1 << 50}),
	}
}

func BenchmarkMemoryAdmit(b *testing.B) {
	mem := NewMemory(MemoryOptions{})
	scopes := routerScopes("key-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := mem.Admit(ctx, scopes, 700); !d.Allowed {
			b.Fatal("denied")
		}
	}
}

func BenchmarkMemoryAdmitSettle(b *testing.B) {
	mem := NewMemory(MemoryOptions{})
	scopes := routerScopes("key-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, _ := mem.Admit(ctx, scopes, 700)
		_ = mem.Settle(ctx, d.Reservation, 350)
	}
}

// BenchmarkMemoryAdmitParallel spreads 1,000 keys over all cores; the
// service scope is shared by all, as in production.
func BenchmarkMemoryAdmitParallel(b *testing.B) {
	mem := NewMemory(MemoryOptions{})
	keys := make([][]Scope, 1000)
	for i := range keys {
		keys[i] = routerScopes(fmt.Sprint("key-", i))
	}
	var next atomic.Uint64
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(7919)
		for pb.Next() {
			i++
			if d, _ := mem.Admit(ctx, keys[i%1000], 700); !d.Allowed {
				b.Fatal("denied")
			}
		}
	})
}

func BenchmarkRedisAdmit(b *testing.B) {
	srv := startRedis(b)
	lim := mustRedis(b, srv.client(), RedisOptions{Prefix: uniquePrefix()})
	scopes := routerScopes("key-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := lim.Admit(ctx, scopes, 700); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkFailoverRedisAdmit(b *testing.B) {
	srv := startRedis(b)
	f := NewFailover(mustRedis(b, srv.client(), RedisOptions{Prefix: uniquePrefix()}),
		FailoverOptions{Logger: slog.New(slog.DiscardHandler)})
	scopes := routerScopes("key-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := f.Admit(ctx, scopes, 700); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
	// On a loaded machine some calls exceed the 20 ms budget and fail open.
	st := f.Stats()
	b.ReportMetric(float64(st.FailOpenAllowed)/float64(b.N), "failopen/op")
}

func BenchmarkRedisAdmitParallel(b *testing.B) {
	srv := startRedis(b)
	lim := mustRedis(b, srv.client(), RedisOptions{Prefix: uniquePrefix()})
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		scopes := routerScopes(fmt.Sprint("key-", next.Add(1)))
		for pb.Next() {
			if d, err := lim.Admit(ctx, scopes, 700); err != nil || !d.Allowed {
				b.Fatal(d, err)
			}
		}
	})
}
