package keys

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Watcher keeps a Cache current from the sy_keys bucket. While NATS is
// away the last snapshot keeps serving.
type Watcher struct {
	cache *Cache
	js    jetstream.JetStream
	log   *slog.Logger
}

// NewWatcher returns a watcher that fills cache.
func NewWatcher(cache *Cache, js jetstream.JetStream, log *slog.Logger) *Watcher {
	return &Watcher{cache: cache, js: js, log: log}
}

// Run watches until ctx ends. ready is called once the bucket's initial
// values are in the cache; until then nothing is published, so a large
// bucket is indexed once rather than once per key.
func (w *Watcher) Run(ctx context.Context, ready func()) error {
	kv, err := w.js.KeyValue(ctx, contract.BucketKeys)
	if err != nil {
		return err
	}
	watch, err := kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = watch.Stop() }()
	pending := map[Digest]*pb.ConsumerKey{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-watch.Updates():
			if !ok {
				return errors.New("sy_keys watch closed")
			}
			if e == nil { // end of the initial values
				initial = false
				w.publish(pending)
				ready()
				continue
			}
			w.apply(pending, e)
			if !initial {
				drain(watch.Updates(), func(e jetstream.KeyValueEntry) { w.apply(pending, e) })
				w.publish(pending)
			}
		}
	}
}

// drain applies the updates already queued, so a burst of changes costs
// one snapshot copy. A closed channel is left for Run's next receive.
func drain(ch <-chan jetstream.KeyValueEntry, apply func(jetstream.KeyValueEntry)) {
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return
			}
			if e != nil {
				apply(e)
			}
		default:
			return
		}
	}
}

// apply records one KV entry in pending: a record, or nil for a delete.
func (w *Watcher) apply(pending map[Digest]*pb.ConsumerKey, e jetstream.KeyValueEntry) {
	d, ok := ParseDigestHex(e.Key())
	if !ok {
		w.log.Warn("sy_keys entry is not a SHA-256 hex key; ignored", "key", e.Key())
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		pending[d] = nil
		return
	}
	var rec pb.ConsumerKey
	if err := proto.Unmarshal(e.Value(), &rec); err != nil {
		w.log.Warn("undecodable consumer key record; ignored", "key", e.Key(), "err", err)
		return
	}
	rec.Hash = e.Key() // the KV key is the authority on which key a record is for
	pending[d] = &rec
}

// publish swaps in a snapshot with pending applied and clears pending.
func (w *Watcher) publish(pending map[Digest]*pb.ConsumerKey) {
	if len(pending) == 0 && w.cache.cur.Load() != nil {
		return
	}
	w.cache.Store(w.cache.Load().with(pending))
	clear(pending)
}
