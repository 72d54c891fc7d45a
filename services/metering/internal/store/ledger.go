package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchyard/switchyard/pkg/contract"
)

// The ledger remembers which usage-stream sequence counted each request id.
//
// It used to be one KV entry per request id, i.e. one synchronously fsynced
// JetStream write per request. Now a run of claims is written as a few
// records, one per event minute (the minute of the event's own Time, which
// every copy of an event carries unchanged), each holding many
// (request id, sequence) pairs under the key m.<minute>.<n>. A duplicate can
// only have been claimed in its own minute, so the ledger keeps an
// in-memory index of the minutes it recently touched (id hashes, see
// minuteIDs) and reads any other minute back from the bucket when an event
// of that minute shows up.
//
// Every record is published with Nats-Expected-Last-Sequence set to the
// last ledger sequence this index has seen, so a write succeeds only if no
// other metering replica wrote since: the index is then exactly the ledger
// for the minutes it holds. A conflict drops the index and reads it again.
// Claims are durable before the rollups change, as with one entry per id.

const (
	ledgerPrefix = "m."
	// maxIDsPerRecord keeps a record well below NATS's 1 MiB payload limit
	// (request ids are ~30 bytes).
	maxIDsPerRecord = 4096
	// indexBudget bounds the request ids held in memory; least recently
	// used minutes beyond it are dropped and read back when needed.
	indexBudget     = 200_000
	conflictRetries = 5
)

// errConflict is a ledger write refused because another writer appended
// first.
var errConflict = errors.New("ledger: written by another metering replica")

// Claim asks that RequestID be counted by the event at stream sequence
// Seq; Time is the event's time.
type Claim struct {
	RequestID string
	Time      time.Time
	Seq       uint64
}

type ledgerIndex struct {
	hash    func(id []byte) uint64
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	subject string // $KV.<bucket>.
	stream  string
	synced  bool   // last is the stream's last sequence as read or written
	last    uint64 // ledger stream sequence the index has seen
	minutes map[int64]*minuteIDs
	ids     int
	tick    uint64
}

// minuteIDs indexes one minute's claims by a 64-bit hash of the request
// id (about 24 bytes an id instead of ~70 with the id itself). A hash that
// is not there proves the id new; a hash that is there is decided exactly
// against the minute's records (exactMinute), which happens only for
// redeliveries, duplicates and the rare collision.
type minuteIDs struct {
	ids  map[uint64]uint64 // hash of request id → a sequence that claimed it
	used uint64
}

func newLedgerIndex(js jetstream.JetStream, kv jetstream.KeyValue) *ledgerIndex {
	seed := maphash.MakeSeed()
	return &ledgerIndex{hash: func(id []byte) uint64 { return maphash.Bytes(seed, id) }, js: js, kv: kv, subject: "$KV." + kv.Bucket() + ".", stream: "KV_" + kv.Bucket(),
		minutes: map[int64]*minuteIDs{}}
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// claim decides each claim and makes the new ones durable. won[i] is true
// when claims[i] holds the id: it is new, or it was claimed before by the
// same sequence (a redelivery). The first of two claims of one id in the
// same call wins.
func (l *ledgerIndex) claim(ctx context.Context, claims []Claim) ([]bool, error) {
	for attempt := 0; ; attempt++ {
		won, err := l.tryClaim(ctx, claims)
		if !errors.Is(err, errConflict) || attempt >= conflictRetries {
			if err != nil {
				l.reset()
			}
			return won, err
		}
		l.reset()
	}
}

func (l *ledgerIndex) reset() {
	l.synced, l.minutes, l.ids = false, map[int64]*minuteIDs{}, 0
}

func (l *ledgerIndex) tryClaim(ctx context.Context, claims []Claim) ([]bool, error) {
	if err := l.sync(ctx); err != nil {
		return nil, err
	}
	l.tick++
	won := make([]bool, len(claims))
	fresh := map[int64][]int{}
	pending := map[string]bool{}
	exact := map[int64]map[string]uint64{} // minutes read exactly during this call
	for i, c := range claims {
		minute := minuteOf(c.Time)
		m, err := l.minute(ctx, minute)
		if err != nil {
			return nil, err
		}
		if _, hit := m.ids[l.hash([]byte(c.RequestID))]; hit {
			ids, err := l.exactMinute(ctx, exact, minute)
			if err != nil {
				return nil, err
			}
			if seq, ok := ids[c.RequestID]; ok {
				won[i] = seq == c.Seq
				continue
			}
		}
		if !pending[c.RequestID] {
			pending[c.RequestID], won[i] = true, true
			fresh[minute] = append(fresh[minute], i)
		}
	}
	for minute, idx := range fresh {
		if err := l.write(ctx, minute, claims, idx); err != nil {
			return nil, err
		}
	}
	l.evict()
	return won, nil
}

// exactMinute reads one minute's claims with their ids, once per call.
func (l *ledgerIndex) exactMinute(ctx context.Context, cache map[int64]map[string]uint64, minute int64) (map[string]uint64, error) {
	if ids, ok := cache[minute]; ok {
		return ids, nil
	}
	ids := map[string]uint64{}
	err := l.read(ctx, minuteFilter(minute), func(id []byte, seq uint64) {
		if _, ok := ids[string(id)]; !ok {
			ids[string(id)] = seq
		}
	})
	cache[minute] = ids
	return ids, err
}

func has(ids map[uint64]uint64, h uint64) bool {
	_, ok := ids[h]
	return ok
}

func minuteFilter(minute int64) string { return ledgerPrefix + strconv.FormatInt(minute, 10) + ".>" }

// sync reads the ledger stream's last sequence after a start or a reset.
func (l *ledgerIndex) sync(ctx context.Context) error {
	if l.synced {
		return nil
	}
	s, err := l.js.Stream(ctx, l.stream)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	l.last, l.synced = info.State.LastSeq, true
	return nil
}

// minute returns the index of one minute, reading it from the bucket when
// it is not held.
func (l *ledgerIndex) minute(ctx context.Context, minute int64) (*minuteIDs, error) {
	if m := l.minutes[minute]; m != nil {
		m.used = l.tick
		return m, nil
	}
	m := &minuteIDs{ids: map[uint64]uint64{}, used: l.tick}
	err := l.read(ctx, minuteFilter(minute), func(id []byte, seq uint64) {
		if h := l.hash(id); !has(m.ids, h) {
			m.ids[h] = seq
		}
	})
	if err != nil {
		return nil, err
	}
	l.minutes[minute] = m
	l.ids += len(m.ids)
	return m, nil
}

// write appends the claims idx of one minute, in records of at most
// maxIDsPerRecord, each conditional on the ledger not having moved.
func (l *ledgerIndex) write(ctx context.Context, minute int64, claims []Claim, idx []int) error {
	m := l.minutes[minute]
	for len(idx) > 0 {
		part := idx[:min(len(idx), maxIDsPerRecord)]
		idx = idx[len(part):]
		var rec []byte
		for _, i := range part {
			rec = protowire.AppendBytes(rec, []byte(claims[i].RequestID))
			rec = protowire.AppendVarint(rec, claims[i].Seq)
		}
		// The key names the sequence the record will get, so no two records
		// share a key (the bucket keeps one value per key).
		key := fmt.Sprintf("%s%d.%d", ledgerPrefix, minute, l.last+1)
		ack, err := l.js.Publish(ctx, l.subject+key, rec, jetstream.WithExpectLastSequence(l.last))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return errConflict
		}
		if err != nil {
			return fmt.Errorf("ledger write: %w", err)
		}
		l.last = ack.Sequence
		for _, i := range part {
			if h := l.hash([]byte(claims[i].RequestID)); !has(m.ids, h) {
				m.ids[h] = claims[i].Seq
			}
		}
		l.ids += len(part)
	}
	return nil
}

// evict drops least recently used minutes while the index is over budget;
// minutes used by the current claim stay.
func (l *ledgerIndex) evict() {
	for l.ids > indexBudget {
		var oldest int64
		var found bool
		for k, m := range l.minutes {
			if m.used < l.tick && (!found || m.used < l.minutes[oldest].used) {
				oldest, found = k, true
			}
		}
		if !found {
			return
		}
		l.ids -= len(l.minutes[oldest].ids)
		delete(l.minutes, oldest)
	}
}

// read calls fn for every (request id, sequence) in the records whose key
// matches filter. It uses the KV watcher (what a service's NATS user may
// do on a bucket it owns) and stops at the end of the initial values.
func (l *ledgerIndex) read(ctx context.Context, filter string, fn func(id []byte, seq uint64)) error {
	w, err := l.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("ledger read: watcher closed")
			}
			if e == nil {
				return nil // the initial values are done
			}
			if err := decodeRecord(e.Value(), fn); err != nil {
				return fmt.Errorf("ledger record %s: %w", e.Key(), err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var errBadRecord = errors.New("malformed ledger record")

func decodeRecord(rec []byte, fn func(id []byte, seq uint64)) error {
	for len(rec) > 0 {
		id, n := protowire.ConsumeBytes(rec)
		if n < 0 {
			return errBadRecord
		}
		rec = rec[n:]
		seq, n := protowire.ConsumeVarint(rec)
		if n < 0 {
			return errBadRecord
		}
		rec = rec[n:]
		fn(id, seq)
	}
	return nil
}

// LedgerIDs reads the whole ledger: every request id counted within the
// ledger's TTL and the stream sequence that counted it. It reads the
// bucket from the start; for tests and audits, not the request path.
func LedgerIDs(ctx context.Context, js jetstream.JetStream) (map[string]uint64, error) {
	kv, err := js.KeyValue(ctx, contract.BucketUsageLedger)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	err = newLedgerIndex(js, kv).read(ctx, ledgerPrefix+">", func(id []byte, seq uint64) {
		if _, ok := out[string(id)]; !ok {
			out[string(id)] = seq
		}
	})
	return out, err
}
