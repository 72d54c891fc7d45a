// Package store reads the service records healthcheck probes (sy_services,
// owned by registry), keeps the statuses it owns (sy_status) and the probe
// leases that let exactly one replica probe a service per round
// (sy_health_leases).
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/kvstore"
)

// Store binds the three buckets.
type Store struct {
	Services jetstream.KeyValue
	Status   *kvstore.Bucket[*pb.Status]
	Leases   jetstream.KeyValue
}

// Open binds the buckets (EnsureTopology must have created them).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	svc, err := js.KeyValue(ctx, contract.BucketServices)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketServices, err)
	}
	st, err := kvstore.Open(ctx, js, contract.BucketStatus, "status", func() *pb.Status { return &pb.Status{} })
	if err != nil {
		return nil, err
	}
	leases, err := js.KeyValue(ctx, contract.BucketHealthLease)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", contract.BucketHealthLease, err)
	}
	return &Store{Services: svc, Status: st, Leases: leases}, nil
}

// Claim takes the lease key for owner. It reports false, without error,
// when another replica holds it: creating a key is atomic in JetStream, so
// of all replicas racing for one key exactly one wins.
func (s *Store) Claim(ctx context.Context, key, owner string) (bool, error) {
	_, err := s.Leases.Create(ctx, key, []byte(owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	return err == nil, err
}

// PutStatusIf stores st only if the stored status is still at revision rev
// (0: only if none is stored). It reports false when another writer got
// there first.
func (s *Store) PutStatusIf(ctx context.Context, st *pb.Status, rev uint64) (bool, error) {
	var err error
	if rev == 0 {
		err = s.Status.Create(ctx, st.GetService(), st)
	} else {
		err = s.Status.Update(ctx, st.GetService(), st, rev)
	}
	if errors.Is(err, kvstore.ErrExists) || errors.Is(err, kvstore.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// GetStatus returns a service's status, or nil when none is stored.
func (s *Store) GetStatus(ctx context.Context, name string) (*pb.Status, error) {
	st, _, err := s.GetStatusRev(ctx, name)
	return st, err
}

// GetStatusRev returns a service's status and its revision, or nil and 0
// when none is stored.
func (s *Store) GetStatusRev(ctx context.Context, name string) (*pb.Status, uint64, error) {
	st, rev, err := s.Status.Get(ctx, name)
	if errors.Is(err, kvstore.ErrNotFound) {
		return nil, 0, nil
	}
	return st, rev, err
}

// PutStatus stores a service's status.
func (s *Store) PutStatus(ctx context.Context, st *pb.Status) error {
	return s.Status.Put(ctx, st.GetService(), st)
}

// DeleteStatus removes a service's status.
func (s *Store) DeleteStatus(ctx context.Context, name string) error {
	return s.Status.Delete(ctx, name)
}

// DecodeService decodes a sy_services value.
func DecodeService(data []byte) (*pb.Service, error) {
	var svc pb.Service
	if err := proto.Unmarshal(data, &svc); err != nil {
		return nil, err
	}
	return &svc, nil
}
