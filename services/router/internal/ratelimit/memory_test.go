package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryExactUnderConcurrency(t *testing.T) {
	clock := newFakeClock() // frozen: no refill, so exactly the limit passes
	mem := NewMemory(MemoryOptions{Now: clock.Now})
	scopes := []Scope{
		KeyScope("k", Limits{RPM: 1000, TPM: 1_000_000}),
		KeyModelScope("k", "m", Limits{RPM: 500}),
		ServiceScope("s", Limits{RPM: 5000}),
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				d, err := mem.Admit(context.Background(), scopes, 10)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 500 {
		t.Fatalf("admitted %d, want exactly the key+model limit 500", got)
	}
}

func TestMemorySweepsFullBuckets(t *testing.T) {
	clock := newFakeClock()
	mem := NewMemory(MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	for i := range 200 {
		if _, err := mem.Admit(ctx, []Scope{KeyScope(fmt.Sprint("k", i), Limits{RPM: 60})}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if mem.Len() != 200 {
		t.Fatalf("Len = %d, want 200", mem.Len())
	}
	clock.Advance(999 * time.Millisecond) // not yet refilled: nothing may go
	mem.sweepAll()
	if mem.Len() != 200 {
		t.Fatalf("Len = %d after an early sweep, want 200", mem.Len())
	}
	clock.Advance(time.Millisecond)
	mem.sweepAll()
	if mem.Len() != 0 {
		t.Fatalf("Len = %d after the buckets refilled, want 0", mem.Len())
	}
	if d, _ := mem.Admit(ctx, []Scope{KeyScope("k0", Limits{RPM: 60})}, 0); !d.Allowed || d.Requests.Remaining != 59 {
		t.Fatalf("a swept bucket must read as full, got %+v", d)
	}
}

func (m *Memory) sweepAll() {
	now := m.now().UnixMicro()
	for i := range m.shards {
		m.shards[i].mu.Lock()
		m.shards[i].sweep(now)
		m.shards[i].mu.Unlock()
	}
}

func TestTooManyScopes(t *testing.T) {
	scopes := make([]Scope, MaxScopes+1)
	for i := range scopes {
		scopes[i] = KeyScope(string(rune('a'+i)), Limits{RPM: 1})
	}
	for name, lim := range map[string]Limiter{
		"memory":   NewMemory(MemoryOptions{}),
		"redis":    mustRedis(t, nil, RedisOptions{}),
		"failover": NewFailover(NewMemory(MemoryOptions{}), FailoverOptions{}),
	} {
		if _, err := lim.Admit(context.Background(), scopes, 0); !errors.Is(err, ErrTooManyScopes) {
			t.Errorf("%s: err = %v, want ErrTooManyScopes", name, err)
		}
	}
}

func TestClockSteppingBackDoesNotRefill(t *testing.T) {
	clock := newFakeClock()
	mem := NewMemory(MemoryOptions{Now: clock.Now})
	scopes := []Scope{KeyScope("k", Limits{RPM: 1})}
	ctx := context.Background()
	if d, _ := mem.Admit(ctx, scopes, 0); !d.Allowed {
		t.Fatal("first admission denied")
	}
	clock.Advance(-time.Hour)
	if d, _ := mem.Admit(ctx, scopes, 0); d.Allowed {
		t.Fatal("a clock step back refilled the bucket")
	}
}

// TestMemoryHashCollision forces two scopes onto one hash: each keeps its
// own bucket, including after the first one is swept away.
func TestMemoryHashCollision(t *testing.T) {
	mem := NewMemory(MemoryOptions{})
	sh := &mem.shards[0]
	a, b := scopeID{KindKey, "a", ""}, scopeID{KindKey, "b", ""}
	ba, bb := sh.create(42, a), sh.create(42, b)
	if ba == bb || sh.find(42, a) != ba || sh.find(42, b) != bb || sh.create(42, b) != bb {
		t.Fatal("colliding scopes share or lose a bucket")
	}
	ba.fullAt, bb.fullAt = 0, 1<<62
	sh.sweep(1)
	if sh.find(42, a) != nil || sh.find(42, b) != bb {
		t.Fatal("sweeping the first bucket hid the colliding one")
	}
}

func TestInMemory(t *testing.T) {
	if !InMemory(NewMemory(MemoryOptions{})) {
		t.Error("the Memory limiter is not reported in-memory")
	}
	if InMemory(NewFailover(NewMemory(MemoryOptions{}), FailoverOptions{})) {
		t.Error("a Failover (a shared backend in production) is reported in-memory")
	}
}
