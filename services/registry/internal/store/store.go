// Package store keeps service records in the sy_services KV bucket (owned
// by registry) and reads the statuses healthcheck keeps in sy_status.
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
	services jetstream.KeyValue
	status   jetstream.KeyValue
}

// Open binds the buckets (EnsureTopology must have created them).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	svc, err := js.KeyValue(ctx, contract.BucketServices)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketServices, err)
	}
	st, err := js.KeyValue(ctx, contract.BucketStatus)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketStatus, err)
	}
	return &Store{services: svc, status: st}, nil
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
	lister, err := s.services.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []*pb.Service
	for k := range lister.Keys() {
		name, ok := contract.Untoken(k)
		if !ok {
			continue
		}
		svc, _, err := s.Get(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted while listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, svc)
	}
	return out, nil
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
