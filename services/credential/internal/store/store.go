// Package store keeps credential records in the sy_credentials KV bucket.
// A record holds either envelope ciphertext (an inline key) or a reference
// (an environment variable name or a file path); never a plaintext key.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/kvstore"
)

// Source kinds.
const (
	SourceValue = "value"
	SourceEnv   = "env"
	SourceFile  = "file"
)

// Record is one stored credential.
type Record struct {
	Source string `json:"source"`
	// Sealed is the envelope record for SourceValue.
	Sealed json.RawMessage `json:"sealed,omitempty"`
	Env    string          `json:"env,omitempty"`
	File   string          `json:"file,omitempty"`
	// KeyID is the master key that wraps Sealed, for quick rotation reports.
	KeyID     string    `json:"key_id,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ErrNotFound means no credential is stored under the name.
var ErrNotFound = errors.New("credential not found")

// KV is the sy_credentials bucket.
type KV struct{ kv jetstream.KeyValue }

// Open binds the bucket (EnsureTopology must have created it).
func Open(ctx context.Context, js jetstream.JetStream) (*KV, error) {
	kv, err := js.KeyValue(ctx, contract.BucketCredentials)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketCredentials, err)
	}
	return &KV{kv: kv}, nil
}

// Get returns the record and its revision.
func (s *KV) Get(ctx context.Context, name string) (Record, uint64, error) {
	e, err := s.kv.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Record{}, 0, ErrNotFound
	}
	if err != nil {
		return Record{}, 0, fmt.Errorf("read credential %q: %w", name, err)
	}
	var r Record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return Record{}, 0, fmt.Errorf("decode credential %q: %w", name, err)
	}
	return r, e.Revision(), nil
}

// Put writes the record. With rev > 0 it is a compare-and-set on that
// revision, so a concurrent rotation and update cannot overwrite each other.
func (s *KV) Put(ctx context.Context, name string, r Record, rev uint64) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if rev > 0 {
		_, err = s.kv.Update(ctx, contract.Key(name), data, rev)
	} else {
		_, err = s.kv.Put(ctx, contract.Key(name), data)
	}
	if err != nil {
		return fmt.Errorf("write credential %q: %w", name, err)
	}
	return nil
}

// Delete removes the record; deleting a missing record is not an error.
func (s *KV) Delete(ctx context.Context, name string) error {
	err := s.kv.Purge(ctx, contract.Key(name))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete credential %q: %w", name, err)
	}
	return nil
}

// Names lists every stored credential name.
func (s *KV) Names(ctx context.Context) ([]string, error) { return kvstore.Names(ctx, s.kv) }

// WatchAll follows every record, starting with the current ones.
func (s *KV) WatchAll(ctx context.Context) (jetstream.KeyWatcher, error) {
	return s.kv.WatchAll(ctx)
}
