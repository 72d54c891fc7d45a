package keys

import (
	"maps"
	"sync/atomic"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Snapshot is an immutable view of every consumer key, revoked ones
// included (so a revoked key is told it was revoked rather than unknown).
type Snapshot struct {
	byDigest map[Digest]*Principal
	byID     map[string]Digest
}

// NewSnapshot indexes records by digest and id. Records whose hash is not a
// SHA-256 hex digest are skipped: no presented key could match them.
func NewSnapshot(records []*pb.ConsumerKey) *Snapshot {
	s := &Snapshot{byDigest: make(map[Digest]*Principal, len(records)), byID: make(map[string]Digest, len(records))}
	for _, rec := range records {
		s.put(rec)
	}
	return s
}

func (s *Snapshot) put(rec *pb.ConsumerKey) {
	d, ok := ParseDigestHex(rec.GetHash())
	if !ok {
		return
	}
	s.byDigest[d] = newPrincipal(rec)
	s.byID[rec.GetId()] = d
}

// with returns a copy of s with changes applied: a nil record deletes its
// digest. Copy-on-write keeps every published snapshot immutable, so
// readers need no lock.
func (s *Snapshot) with(changes map[Digest]*pb.ConsumerKey) *Snapshot {
	next := &Snapshot{byDigest: maps.Clone(s.byDigest), byID: maps.Clone(s.byID)}
	for d, rec := range changes {
		if old, ok := next.byDigest[d]; ok {
			delete(next.byID, old.ID)
			delete(next.byDigest, d)
		}
		if rec != nil {
			next.put(rec)
		}
	}
	return next
}

// Lookup returns the principal of a digest, revoked or expired ones
// included; Authenticator decides what they may do.
func (s *Snapshot) Lookup(d Digest) (*Principal, bool) {
	p, ok := s.byDigest[d]
	return p, ok
}

// ByID returns the digest of the key with id.
func (s *Snapshot) ByID(id string) (Digest, bool) {
	d, ok := s.byID[id]
	return d, ok
}

// Len is the number of keys.
func (s *Snapshot) Len() int { return len(s.byDigest) }

// Cache holds the current snapshot.
type Cache struct{ cur atomic.Pointer[Snapshot] }

// Load returns the current snapshot (never nil).
func (c *Cache) Load() *Snapshot {
	if s := c.cur.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

// Store publishes s to every later Load.
func (c *Cache) Store(s *Snapshot) { c.cur.Store(s) }

var emptySnapshot = NewSnapshot(nil)
