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

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/kvstore"
)

// The outcomes callers branch on (shared with every typed bucket).
var (
	ErrNotFound = kvstore.ErrNotFound
	ErrExists   = kvstore.ErrExists
	ErrConflict = kvstore.ErrConflict
)

// Store binds the buckets.
type Store struct {
	services    *kvstore.Bucket[*pb.Service]
	status      *kvstore.Bucket[*pb.Status]
	routes      *kvstore.Bucket[*pb.ModelAlias]
	keys        *kvstore.Bucket[*pb.ConsumerKey]
	credentials jetstream.KeyValue
}

// Open binds the buckets (EnsureTopology must have created them).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	var s Store
	var err error
	if s.services, err = kvstore.Open(ctx, js, contract.BucketServices, "service", func() *pb.Service { return &pb.Service{} }); err != nil {
		return nil, err
	}
	if s.status, err = kvstore.Open(ctx, js, contract.BucketStatus, "status", func() *pb.Status { return &pb.Status{} }); err != nil {
		return nil, err
	}
	if s.routes, err = kvstore.Open(ctx, js, contract.BucketRoutes, "alias", func() *pb.ModelAlias { return &pb.ModelAlias{} }); err != nil {
		return nil, err
	}
	if s.keys, err = kvstore.Open(ctx, js, contract.BucketKeys, "consumer key", func() *pb.ConsumerKey { return &pb.ConsumerKey{} }); err != nil {
		return nil, err
	}
	if s.credentials, err = js.KeyValue(ctx, contract.BucketCredentials); err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketCredentials, err)
	}
	return &s, nil
}

// Get returns a service and its revision.
func (s *Store) Get(ctx context.Context, name string) (*pb.Service, uint64, error) {
	return s.services.Get(ctx, name)
}

// Create writes a new service; ErrExists if the name is taken.
func (s *Store) Create(ctx context.Context, svc *pb.Service) error {
	return s.services.Create(ctx, svc.GetName(), svc)
}

// Update replaces a service read at revision rev; ErrConflict otherwise.
func (s *Store) Update(ctx context.Context, svc *pb.Service, rev uint64) error {
	return s.services.Update(ctx, svc.GetName(), svc, rev)
}

// Delete removes a service and its history.
func (s *Store) Delete(ctx context.Context, name string) error { return s.services.Delete(ctx, name) }

// List returns every service.
func (s *Store) List(ctx context.Context) ([]*pb.Service, error) { return s.services.List(ctx) }

// Status returns a service's status, or nil if healthcheck has none yet.
func (s *Store) Status(ctx context.Context, name string) (*pb.Status, error) {
	st, _, err := s.status.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return st, err
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
