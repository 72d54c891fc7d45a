package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/kvstore"
)

// Store errors (shared with every typed bucket).
var (
	ErrNotFound = kvstore.ErrNotFound
	ErrExists   = kvstore.ErrExists
	ErrConflict = kvstore.ErrConflict
)

// Store keeps ConsumerKey records in sy_keys, keyed by the key's SHA-256
// hex digest, as binary protobuf. It also reads sy_services to check that
// a key's allowed services exist.
type Store struct {
	keys     *kvstore.Bucket[*pb.ConsumerKey]
	services jetstream.KeyValue
}

// OpenStore binds the buckets (EnsureTopology must have created them).
func OpenStore(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	keys, err := kvstore.Open(ctx, js, contract.BucketKeys, "consumer key", func() *pb.ConsumerKey { return &pb.ConsumerKey{} })
	if err != nil {
		return nil, err
	}
	services, err := js.KeyValue(ctx, contract.BucketServices)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketServices, err)
	}
	return &Store{keys: keys, services: services}, nil
}

// Create writes a new record; ErrExists if its digest is taken.
func (s *Store) Create(ctx context.Context, rec *pb.ConsumerKey) error {
	return s.keys.Create(ctx, rec.GetHash(), rec)
}

// Get returns the record of a digest and its revision.
func (s *Store) Get(ctx context.Context, hashHex string) (*pb.ConsumerKey, uint64, error) {
	rec, rev, err := s.keys.Get(ctx, hashHex)
	if err == nil {
		rec.Hash = hashHex
	}
	return rec, rev, err
}

// Update replaces a record read at revision rev; ErrConflict otherwise.
func (s *Store) Update(ctx context.Context, rec *pb.ConsumerKey, rev uint64) error {
	return s.keys.Update(ctx, rec.GetHash(), rec, rev)
}

// List returns every record, each with its digest set.
func (s *Store) List(ctx context.Context) ([]*pb.ConsumerKey, error) {
	hashes, err := s.keys.Names(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.ConsumerKey, 0, len(hashes))
	for _, h := range hashes {
		rec, _, err := s.Get(ctx, h)
		if errors.Is(err, ErrNotFound) {
			continue // revoked and purged while listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// FindByID scans for the record with id, for a key this replica's
// snapshot does not hold yet (created a moment ago through another
// replica).
func (s *Store) FindByID(ctx context.Context, id string) (*pb.ConsumerKey, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if rec.GetId() == id {
			return rec, nil
		}
	}
	return nil, ErrNotFound
}

// ServiceExists reports whether a service is registered.
func (s *Store) ServiceExists(ctx context.Context, name string) (bool, error) {
	_, err := s.services.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}
