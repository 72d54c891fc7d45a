// Package store reads the service records healthcheck probes (sy_services,
// owned by registry) and keeps the statuses it owns (sy_status).
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

// Store binds the two buckets.
type Store struct {
	Services jetstream.KeyValue
	Status   jetstream.KeyValue
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
	return &Store{Services: svc, Status: st}, nil
}

// GetStatus returns a service's status, or nil when none is stored.
func (s *Store) GetStatus(ctx context.Context, name string) (*pb.Status, error) {
	e, err := s.Status.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st pb.Status
	if err := proto.Unmarshal(e.Value(), &st); err != nil {
		return nil, fmt.Errorf("decode status of %q: %w", name, err)
	}
	return &st, nil
}

// PutStatus stores a service's status.
func (s *Store) PutStatus(ctx context.Context, st *pb.Status) error {
	data, err := proto.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.Status.Put(ctx, contract.Key(st.GetService()), data)
	return err
}

// DeleteStatus removes a service's status.
func (s *Store) DeleteStatus(ctx context.Context, name string) error {
	err := s.Status.Purge(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

// DecodeService decodes a sy_services value.
func DecodeService(data []byte) (*pb.Service, error) {
	var svc pb.Service
	if err := proto.Unmarshal(data, &svc); err != nil {
		return nil, err
	}
	return &svc, nil
}
