package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Store errors.
var (
	ErrNotFound = errors.New("consumer key not found")
	ErrExists   = errors.New("consumer key already exists")
	ErrConflict = errors.New("consumer key changed concurrently")
)

// Store keeps ConsumerKey records in sy_keys, keyed by the key's SHA-256
// hex digest, as binary protobuf. It also reads sy_services to check that
// a key's allowed services exist.
type Store struct {
	keys, services jetstream.KeyValue
}

// OpenStore binds the buckets (EnsureTopology must have created them).
func OpenStore(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	keys, err := js.KeyValue(ctx, contract.BucketKeys)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketKeys, err)
	}
	services, err := js.KeyValue(ctx, contract.BucketServices)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketServices, err)
	}
	return &Store{keys: keys, services: services}, nil
}

// Create writes a new record; ErrExists if its digest is taken.
func (s *Store) Create(ctx context.Context, rec *pb.ConsumerKey) error {
	data, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = s.keys.Create(ctx, contract.Key(rec.GetHash()), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrExists
	}
	return err
}

// Get returns the record of a digest and its revision.
func (s *Store) Get(ctx context.Context, hashHex string) (*pb.ConsumerKey, uint64, error) {
	e, err := s.keys.Get(ctx, contract.Key(hashHex))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	var rec pb.ConsumerKey
	if err := proto.Unmarshal(e.Value(), &rec); err != nil {
		return nil, 0, fmt.Errorf("decode consumer key record: %w", err)
	}
	rec.Hash = hashHex
	return &rec, e.Revision(), nil
}

// Update replaces a record read at revision rev; ErrConflict otherwise.
func (s *Store) Update(ctx context.Context, rec *pb.ConsumerKey, rev uint64) error {
	data, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = s.keys.Update(ctx, contract.Key(rec.GetHash()), data, rev)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return ErrConflict
	}
	return err
}

// List returns every record.
func (s *Store) List(ctx context.Context) ([]*pb.ConsumerKey, error) {
	lister, err := s.keys.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*pb.ConsumerKey
	for k := range lister.Keys() {
		rec, _, err := s.Get(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // deleted while listing
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
