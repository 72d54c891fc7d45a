package credential

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/services/credential/internal/store"
)

// DefaultFilePollInterval is how often key files are re-read. It bounds how
// long a rotated Kubernetes Secret takes to reach the edge.
const DefaultFilePollInterval = time.Second

// Publisher publishes an event; jetstream.JetStream satisfies it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// FileWatcher re-reads the key file of every file-sourced credential and
// publishes sy.evt.credential.<name>.changed when its content changes, so
// the router (which caches resolved keys) resolves it again.
//
// It polls instead of using inotify/fsnotify on purpose: Kubernetes
// updates a mounted Secret by swapping a "..data" symlink in the volume
// directory, which a watch on the file path misses unless the directory is
// watched and the watch re-armed, and inotify does not see changes on many
// network filesystems. Reading a few small files once a second costs
// nothing measurable, needs no dependency, and gives a plain latency bound:
// one interval. Only a SHA-256 of each file is kept, in memory.
type FileWatcher struct {
	kv       *store.KV
	pub      Publisher
	interval time.Duration
	log      *slog.Logger

	paths  map[string]string   // credential name -> file path
	hashes map[string][32]byte // credential name -> content hash ({} when unreadable)
}

// NewFileWatcher returns a watcher over the credentials in kv.
func NewFileWatcher(kv *store.KV, pub Publisher, interval time.Duration, log *slog.Logger) *FileWatcher {
	if interval <= 0 {
		interval = DefaultFilePollInterval
	}
	return &FileWatcher{kv: kv, pub: pub, interval: interval, log: log,
		paths: map[string]string{}, hashes: map[string][32]byte{}}
}

// Run follows the credential bucket (to know which files to read) and polls
// the files until ctx ends.
func (w *FileWatcher) Run(ctx context.Context) error {
	watch, err := w.kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = watch.Stop() }()
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-watch.Updates():
			if !ok {
				return nil
			}
			if e != nil {
				w.track(e)
			}
		case <-tick.C:
			w.poll(ctx)
		}
	}
}

// track adds or drops a credential from the set of watched files. A file
// seen for the first time is hashed without an event: whoever resolves it
// next reads the current content anyway.
func (w *FileWatcher) track(e jetstream.KeyValueEntry) {
	name, ok := contract.Untoken(e.Key())
	if !ok {
		return
	}
	var rec store.Record
	if e.Operation() != jetstream.KeyValuePut || json.Unmarshal(e.Value(), &rec) != nil || rec.Source != store.SourceFile {
		delete(w.paths, name)
		delete(w.hashes, name)
		return
	}
	w.paths[name] = rec.File
	w.hashes[name] = hashFile(rec.File)
}

func (w *FileWatcher) poll(ctx context.Context) {
	for name, path := range w.paths {
		h := hashFile(path)
		if h == w.hashes[name] {
			continue
		}
		w.hashes[name] = h
		if _, err := w.pub.Publish(ctx, contract.CredentialChanged(name), nil); err != nil {
			w.log.Warn("publish credential change", "credential", name, "err", err)
			continue
		}
		w.log.Info("key file changed; consumers re-resolve", "credential", name, "file", path)
	}
}

// hashFile is the SHA-256 of the file's content, or the zero hash when it
// cannot be read (so a file that comes back is a change too).
func hashFile(path string) [32]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(data)
}
