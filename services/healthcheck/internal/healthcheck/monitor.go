package healthcheck

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/healthcheck/internal/store"
)

// Run watches sy_services and refreshes every status until ctx ends.
//
// cold says no other healthcheck replica was running when this one started
// (see PeersAlive): then nobody has verified the stored statuses since the
// fleet came back, so each one reads Pending until this replica's first
// probe of it. When peers are running, their statuses stand and the next
// round refreshes them, so a rolling restart changes no status.
func (s *Service) Run(ctx context.Context, ready func(), cold bool) error {
	s.cold = cold
	w, err := s.store.Services.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	go s.refreshLoop(ctx)
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return ctx.Err()
			}
			if e == nil { // end of the initial values
				initial = false
				ready()
				continue
			}
			s.apply(ctx, e, initial)
		}
	}
}

func (s *Service) apply(ctx context.Context, e jetstream.KeyValueEntry, initial bool) {
	name, ok := contract.Untoken(e.Key())
	if !ok {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		s.forget(ctx, name)
		return
	}
	svc, err := store.DecodeService(e.Value())
	if err != nil {
		s.log.Warn("undecodable service record", "key", e.Key(), "err", err)
		return
	}
	s.mu.Lock()
	s.services[name] = svc
	rp, fresh := s.recent[name]
	delete(s.recent, name)
	s.mu.Unlock()
	switch {
	case initial && s.cold:
		if s.markPending(ctx, name) {
			s.goProbe(ctx, name, "", time.Now())
		}
	case initial:
		s.probeIfUnknown(ctx, name, e.Revision())
	case fresh && time.Since(rp.at) < inlineResultTTL && sameTarget(rp.service, svc):
		// The registry's inline probe of exactly this record stands in for a
		// new probe; the lease keeps the other replicas from probing it again.
		if s.claim(ctx, name, revisionLease(e.Revision())) {
			s.record(ctx, rp.status)
		}
	default: // registered or changed without our inline probe: verify it once
		s.goProbe(ctx, name, revisionLease(e.Revision()), time.Now())
	}
}

// probeIfUnknown probes a service that has no status at all (it was
// registered while no healthcheck replica ran) without waiting a round.
func (s *Service) probeIfUnknown(ctx context.Context, name string, rev uint64) {
	if st, err := s.store.GetStatus(ctx, name); err == nil && st == nil {
		s.goProbe(ctx, name, revisionLease(rev), time.Now())
	}
}

func (s *Service) forget(ctx context.Context, name string) {
	s.mu.Lock()
	delete(s.services, name)
	delete(s.recent, name)
	s.mu.Unlock()
	forgetStatus(name)
	if err := s.store.DeleteStatus(ctx, name); err != nil {
		s.log.Warn("delete status", "service", name, "err", err)
	}
}

// revisionLease names the one probe of a given record revision.
func revisionLease(rev uint64) string { return "v" + strconv.FormatUint(rev, 10) }

// sameTarget reports whether a probe of a was a probe of b's upstream.
func sameTarget(a, b *pb.Service) bool {
	a2, b2 := proto.Clone(a).(*pb.Service), proto.Clone(b).(*pb.Service)
	for _, x := range []*pb.Service{a2, b2} {
		x.CreatedAt, x.UpdatedAt, x.Functions, x.Tags = nil, nil, nil, nil
	}
	return proto.Equal(a2, b2)
}
