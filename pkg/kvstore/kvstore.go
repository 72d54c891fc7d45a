// Package kvstore is typed access to a JetStream KV bucket of protobuf
// records keyed by names escaped with contract.Key: the get/create/update/
// delete/list code every service's store would otherwise repeat, with the
// KV's errors mapped to three sentinels.
package kvstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
)

// The outcomes callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("changed concurrently")
)

// Bucket holds records of type T.
type Bucket[T proto.Message] struct {
	kv     jetstream.KeyValue
	newT   func() T
	record string // what a record is, for error messages
}

// Open binds bucket (EnsureTopology must have created it). record names
// what the bucket holds ("service", "alias") in error messages.
func Open[T proto.Message](ctx context.Context, js jetstream.JetStream, bucket, record string, newT func() T) (*Bucket[T], error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", bucket, err)
	}
	return &Bucket[T]{kv: kv, newT: newT, record: record}, nil
}

// KV is the underlying bucket, for watches.
func (b *Bucket[T]) KV() jetstream.KeyValue { return b.kv }

// Get returns the record stored under name and its revision.
func (b *Bucket[T]) Get(ctx context.Context, name string) (T, uint64, error) {
	var zero T
	e, err := b.kv.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return zero, 0, ErrNotFound
	}
	if err != nil {
		return zero, 0, err
	}
	v, err := b.Decode(e.Value())
	if err != nil {
		return zero, 0, fmt.Errorf("decode %s %q: %w", b.record, name, err)
	}
	return v, e.Revision(), nil
}

// Decode decodes one stored value (from a watch, say).
func (b *Bucket[T]) Decode(data []byte) (T, error) {
	v := b.newT()
	return v, proto.Unmarshal(data, v)
}

// Create stores v under name unless the name is taken (ErrExists).
func (b *Bucket[T]) Create(ctx context.Context, name string, v T) error {
	data, err := proto.Marshal(v)
	if err != nil {
		return err
	}
	_, err = b.kv.Create(ctx, contract.Key(name), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrExists
	}
	return err
}

// Update replaces the record read at revision rev (ErrConflict if it
// changed since).
func (b *Bucket[T]) Update(ctx context.Context, name string, v T, rev uint64) error {
	data, err := proto.Marshal(v)
	if err != nil {
		return err
	}
	_, err = b.kv.Update(ctx, contract.Key(name), data, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return ErrConflict
	}
	return err
}

// Put stores v under name whatever was there.
func (b *Bucket[T]) Put(ctx context.Context, name string, v T) error {
	data, err := proto.Marshal(v)
	if err != nil {
		return err
	}
	_, err = b.kv.Put(ctx, contract.Key(name), data)
	return err
}

// Delete removes name and its history; deleting an absent name is not an
// error (a purge marker is written either way).
func (b *Bucket[T]) Delete(ctx context.Context, name string) error {
	return b.kv.Purge(ctx, contract.Key(name))
}

// Names returns the unescaped name of every live key.
func (b *Bucket[T]) Names(ctx context.Context) ([]string, error) { return Names(ctx, b.kv) }

// Names returns the unescaped name of every live key of any bucket keyed
// with contract.Key (for buckets whose values are not protobuf).
func Names(ctx context.Context, kv jetstream.KeyValue) ([]string, error) {
	lister, err := kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range lister.Keys() {
		if name, ok := contract.Untoken(k); ok {
			out = append(out, name)
		}
	}
	return out, nil
}

// List returns every record, skipping ones deleted while listing.
func (b *Bucket[T]) List(ctx context.Context) ([]T, error) {
	names, err := b.Names(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(names))
	for _, name := range names {
		v, _, err := b.Get(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
