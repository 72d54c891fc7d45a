// Package store keeps service records in the sy_services KV bucket and
// model aliases in sy_routes (both owned by registry), and reads the
// statuses healthcheck keeps in sy_status and the consumer keys the router
// keeps in sy_keys.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// ErrNotFound means no service has the name.
var ErrNotFound = errors.New("service not found")

// ErrExists means a service with the name already exists.
var ErrExists = errors.New("service already exists")

// ErrConflict means the record changed since it was read.
var ErrConflict = errors.New("service changed concurrently")

// Store binds the buckets.
type Store struct {
	services, status, routes, keys, credentials jetstream.KeyValue
}

// Open binds the buckets (EnsureTopology must have created them).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	var s Store
	for _, b := range []struct {
		name string
		kv   *jetstream.KeyValue
	}{
		{contract.BucketServices, &s.services}, {contract.BucketStatus, &s.status},
		{contract.BucketRoutes, &s.routes}, {contract.BucketKeys, &s.keys},
		{contract.BucketCredentials, &s.credentials},
	} {
		kv, err := js.KeyValue(ctx, b.name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", b.name, err)
		}
		*b.kv = kv
	}
	return &s, nil
}

// Get returns a service and its revision.
func (s *Store) Get(ctx context.Context, name string) (*pb.Service, uint64, error) {
	e, err := s.services.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	var svc pb.Service
	if err := proto.Unmarshal(e.Value(), &svc); err != nil {
		return nil, 0, fmt.Errorf("decode service %q: %w", name, err)
	}
	return &svc, e.Revision(), nil
}

// Create writes a new service; ErrExists if the name is taken.
func (s *Store) Create(ctx context.Context, svc *pb.Service) error {
	data, err := proto.Marshal(svc)
	if err != nil {
		return err
	}
	_, err = s.services.Create(ctx, contract.Key(svc.GetName()), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrExists
	}
	return err
}

// Update replaces a service read at revision rev; ErrConflict otherwise.
func (s *Store) Update(ctx context.Context, svc *pb.Service, rev uint64) error {
	data, err := proto.Marshal(svc)
	if err != nil {
		return err
	}
	_, err = s.services.Update(ctx, contract.Key(svc.GetName()), data, rev)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return ErrConflict
	}
	return err
}

// Delete removes a service and its history.
func (s *Store) Delete(ctx context.Context, name string) error {
	err := s.services.Purge(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}

// List returns every service.
func (s *Store) List(ctx context.Context) ([]*pb.Service, error) {
	var out []*pb.Service
	err := eachKey(ctx, s.services, func(name string) error {
		svc, _, err := s.Get(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted while listing
		}
		out = append(out, svc)
		return err
	})
	return out, err
}

// Status returns a service's status, or nil if healthcheck has none yet.
func (s *Store) Status(ctx context.Context, name string) (*pb.Status, error) {
	e, err := s.status.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st pb.Status
	if err := proto.Unmarshal(e.Value(), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// CredentialRecord returns the raw sy_credentials record of ref (owned by
// the credential service: ciphertext or an env/file reference, never a
// key). The registry reads it only to see where a key comes from, so a
// re-applied config file can tell an unchanged source from a new one.
func (s *Store) CredentialRecord(ctx context.Context, ref string) ([]byte, bool, error) {
	e, err := s.credentials.Get(ctx, contract.Key(ref))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e.Value(), true, nil
}
