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
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu        sync.Mutex
	buckets   map[scopeID]*memBucket
	nextSweep int64
	_         [64]byte // keep neighbouring shard locks off one cache line
}

type scopeID struct {
	kind      Kind
	id, model string
}

type memBucket struct {
	lv     levels
	at     int64 // Unix µs of lv
	fullAt int64 // Unix µs after which the bucket is full and may be dropped
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
		m.shards[i].buckets = make(map[scopeID]*memBucket)
	}
	return m
}

// Admit implements Limiter. It never returns an error for a valid call.
func (m *Memory) Admit(_ context.Context, scopes []Scope, tokens int64) (Decision, error) {
	tokens, err := checkScopes(scopes, tokens)
	if err != nil {
		return Decision{}, err
	}
	now := m.now().UnixMicro()
	var order [MaxScopes]uint8
	held := m.lock(scopes, order[:len(scopes)])
	defer m.unlock(held)

	var lv [MaxScopes]levels
	allowed := true
	for i, s := range scopes {
		lv[i] = m.current(order[i], s, now)
		allowed = allowed && admits(s.Limits, lv[i], tokens)
	}
	if allowed {
		for i, s := range scopes {
			lv[i] = take(s.Limits, lv[i], tokens)
			m.store(order[i], s, lv[i], now)
		}
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
	var order [MaxScopes]uint8
	held := m.lock(scopes, order[:len(scopes)])
	defer m.unlock(held)
	for i, s := range scopes {
		if s.Limits.TPM > 0 {
			m.store(order[i], s, adjustTokens(m.current(order[i], s, now), s.Limits, delta), now)
		}
	}
	return nil
}

// lock computes each scope's shard into order and locks the distinct shards
// in ascending index order. It returns the locked shard set as a bitmask.
func (m *Memory) lock(scopes []Scope, order []uint8) uint64 {
	var held uint64
	for i, s := range scopes {
		h := maphash.String(m.seed, s.ID) ^ maphash.String(m.seed, s.Model)*31 ^ uint64(s.Kind)
		order[i] = uint8(h % memShards)
		held |= 1 << order[i]
	}
	for set := held; set != 0; set &= set - 1 {
		m.shards[lowestBit(set)].mu.Lock()
	}
	return held
}

func (m *Memory) unlock(held uint64) {
	for set := held; set != 0; set &= set - 1 {
		m.shards[lowestBit(set)].mu.Unlock()
	}
}

func lowestBit(set uint64) int { return bits.TrailingZeros64(set) }

// current returns the scope's refilled levels; the shard must be locked.
func (m *Memory) current(shard uint8, s Scope, now int64) levels {
	b := m.shards[shard].buckets[scopeID{s.Kind, s.ID, s.Model}]
	if b == nil {
		return fullLevels(s.Limits)
	}
	// A replica's clock may step back; never refill negatively.
	return refillLevels(b.lv, s.Limits, max(now-b.at, 0))
}

// store saves levels for the scope; the shard must be locked.
func (m *Memory) store(shard uint8, s Scope, lv levels, now int64) {
	sh := &m.shards[shard]
	id := scopeID{s.Kind, s.ID, s.Model}
	b := sh.buckets[id]
	if b == nil {
		b = &memBucket{}
		sh.buckets[id] = b
	}
	b.lv, b.at = lv, max(now, b.at)
	b.fullAt = b.at + int64(fullAfter(s.Limits, lv)/time.Microsecond)
	if now >= sh.nextSweep {
		sh.sweep(now)
	}
}

// sweep drops buckets that have refilled completely; their absence means
// "full", so nothing is lost, and idle keys stop costing memory.
func (sh *memShard) sweep(now int64) {
	for id, b := range sh.buckets {
		if now >= b.fullAt {
			delete(sh.buckets, id)
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
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}
