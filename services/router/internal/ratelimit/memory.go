package ratelimit

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"
)

const (
	memShards     = 64
	sweepInterval = time.Minute
)

// Memory is the single-replica backend: bucket state in maps spread over
// lock shards. An admission locks the shards of its scopes in index order
// (so concurrent admissions cannot deadlock) and checks and takes all scopes
// under those locks, which makes it as atomic as the Redis script.
//
// Buckets are found by a seeded 64-bit hash of the scope and confirmed by
// comparing the full identity; the rare scope whose hash is already taken
// lives in a per-shard overflow map, so collisions cost speed, never
// correctness.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu        sync.Mutex
	buckets   map[uint64]*memBucket
	overflow  map[scopeID]*memBucket
	nextSweep int64
	_         [64]byte // keep neighbouring shard locks off one cache line
}

type scopeID struct {
	kind      Kind
	id, model string
}

type memBucket struct {
	id     scopeID
	lv     levels
	at     int64 // Unix µs of lv
	fullAt int64 // Unix µs after which the bucket is full and may be dropped
}

// slot locates one scope's bucket during an admission.
type slot struct {
	hash  uint64
	shard *memShard
	id    scopeID
	b     *memBucket // nil while the scope has no state (a full bucket)
}

// MemoryOptions configure a Memory limiter.
type MemoryOptions struct {
	Now func() time.Time // clock; defaults to time.Now
}

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{now: opts.Now, seed: maphash.MakeSeed()}
	if m.now == nil {
		m.now = time.Now
	}
	for i := range m.shards {
		m.shards[i].buckets = make(map[uint64]*memBucket)
		m.shards[i].overflow = make(map[scopeID]*memBucket)
	}
	return m
}

// Admit implements Limiter. It never returns an error for a valid call.
// A scope listed twice in one call is counted once.
func (m *Memory) Admit(_ context.Context, scopes []Scope, tokens int64) (Decision, error) {
	tokens, err := checkScopes(scopes, tokens)
	if err != nil {
		return Decision{}, err
	}
	now := m.now().UnixMicro()
	var slots [MaxScopes]slot
	held := m.lock(scopes, slots[:len(scopes)])
	defer m.unlock(held)

	var lv [MaxScopes]levels
	allowed := true
	for i, s := range scopes {
		lv[i] = slots[i].current(s.Limits, now)
		allowed = allowed && admits(s.Limits, lv[i], tokens)
	}
	if allowed {
		for i, s := range scopes {
			lv[i] = take(s.Limits, lv[i], tokens)
			slots[i].store(s.Limits, lv[i], now)
		}
		m.sweepDue(held, now)
	}
	d := buildDecision(scopes, lv[:len(scopes)], tokens, allowed)
	if allowed {
		d.Reservation = newReservation(scopes, tokens, SourcePrimary)
	}
	return d, nil
}

// Settle implements Limiter.
func (m *Memory) Settle(_ context.Context, r Reservation, usedTokens int64) error {
	delta := max(usedTokens, 0) - r.tokens
	if delta == 0 || r.n == 0 {
		return nil
	}
	scopes := r.list()
	now := m.now().UnixMicro()
	var slots [MaxScopes]slot
	held := m.lock(scopes, slots[:len(scopes)])
	defer m.unlock(held)
	for i, s := range scopes {
		if s.Limits.TPM > 0 {
			slots[i].store(s.Limits, adjustTokens(slots[i].current(s.Limits, now), s.Limits, delta), now)
		}
	}
	return nil
}

// lock hashes each scope into slots, locks the distinct shards in ascending
// index order, then finds the existing buckets. It returns the locked
// shard set as a bitmask.
func (m *Memory) lock(scopes []Scope, slots []slot) uint64 {
	var held uint64
	for i, s := range scopes {
		h := maphash.String(m.seed, s.ID)
		if s.Model != "" {
			h = h*0x9E3779B97F4A7C15 ^ maphash.String(m.seed, s.Model)
		}
		h ^= uint64(s.Kind) << 59
		idx := h % memShards
		slots[i] = slot{hash: h, shard: &m.shards[idx], id: scopeID{s.Kind, s.ID, s.Model}}
		held |= 1 << idx
	}
	for set := held; set != 0; set &= set - 1 {
		m.shards[bits.TrailingZeros64(set)].mu.Lock()
	}
	for i := range slots {
		slots[i].b = slots[i].shard.find(slots[i].hash, slots[i].id)
	}
	return held
}

func (m *Memory) unlock(held uint64) {
	for set := held; set != 0; set &= set - 1 {
		m.shards[bits.TrailingZeros64(set)].mu.Unlock()
	}
}

func (sh *memShard) find(h uint64, id scopeID) *memBucket {
	b := sh.buckets[h]
	switch {
	case b != nil && b.id == id:
		return b
	case len(sh.overflow) == 0:
		return nil
	}
	return sh.overflow[id]
}

func (sh *memShard) create(h uint64, id scopeID) *memBucket {
	if b := sh.find(h, id); b != nil {
		return b // the same scope listed twice in one call
	}
	b := &memBucket{id: id}
	if sh.buckets[h] == nil {
		sh.buckets[h] = b
	} else {
		sh.overflow[id] = b
	}
	return b
}

// current returns the scope's refilled levels; the shard must be locked.
func (sl *slot) current(l Limits, now int64) levels {
	if sl.b == nil {
		return fullLevels(l)
	}
	// A replica's clock may step back; never refill negatively.
	return refillLevels(sl.b.lv, l, max(now-sl.b.at, 0))
}

// store saves levels for the scope; the shard must be locked.
func (sl *slot) store(l Limits, lv levels, now int64) {
	if sl.b == nil {
		sl.b = sl.shard.create(sl.hash, sl.id)
	}
	b := sl.b
	b.lv, b.at = lv, max(now, b.at)
	b.fullAt = b.at + int64(fullAfter(l, lv)/time.Microsecond)
}

// sweepDue sweeps the held shards whose sweep time has come.
func (m *Memory) sweepDue(held uint64, now int64) {
	for set := held; set != 0; set &= set - 1 {
		if sh := &m.shards[bits.TrailingZeros64(set)]; now >= sh.nextSweep {
			sh.sweep(now)
		}
	}
}

// sweep drops buckets that have refilled completely; their absence means
// "full", so nothing is lost, and idle keys stop costing memory.
func (sh *memShard) sweep(now int64) {
	for h, b := range sh.buckets {
		if now >= b.fullAt {
			delete(sh.buckets, h)
		}
	}
	for id, b := range sh.overflow {
		if now >= b.fullAt {
			delete(sh.overflow, id)
		}
	}
	sh.nextSweep = now + int64(sweepInterval/time.Microsecond)
}

// Len returns the number of buckets held, for tests and metrics.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets) + len(sh.overflow)
		sh.mu.Unlock()
	}
	return n
}
