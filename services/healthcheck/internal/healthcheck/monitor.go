package healthcheck

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/healthcheck/internal/store"
)

// Run watches sy_services and refreshes every status until ctx ends.
func (s *Service) Run(ctx context.Context, ready func()) error {
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
		s.mu.Lock()
		delete(s.services, name)
		delete(s.recent, name)
		s.mu.Unlock()
		if err := s.store.DeleteStatus(ctx, name); err != nil {
			s.log.Warn("delete status", "service", name, "err", err)
		}
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
	case fresh && time.Since(rp.at) < inlineResultTTL && sameTarget(rp.service, svc):
		s.record(ctx, rp.status)
	case initial:
		s.record(ctx, pendingStatus(name))
		s.schedule(name)
	default:
		s.schedule(name)
	}
}

// sameTarget reports whether a probe of a was a probe of b's upstream.
func sameTarget(a, b *pb.Service) bool {
	a2, b2 := proto.Clone(a).(*pb.Service), proto.Clone(b).(*pb.Service)
	for _, x := range []*pb.Service{a2, b2} {
		x.CreatedAt, x.UpdatedAt, x.Functions, x.Tags = nil, nil, nil, nil
	}
	return proto.Equal(a2, b2)
}

func (s *Service) schedule(name string) {
	select {
	case s.wake <- name:
	default: // the next round covers it
	}
}

func (s *Service) refreshLoop(ctx context.Context) {
	sem := make(chan struct{}, s.cfg.Concurrency)
	ticker := time.NewTicker(s.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-s.wake:
			s.probeAsync(ctx, sem, name, 0)
		case <-ticker.C:
			for _, name := range s.names() {
				s.probeAsync(ctx, sem, name, s.jitter())
			}
		}
	}
}

func (s *Service) jitter() time.Duration {
	if s.cfg.Jitter <= 0 {
		return 0
	}
	return rand.N(s.cfg.Jitter)
}

func (s *Service) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.services))
	for n := range s.services {
		out = append(out, n)
	}
	return out
}

func (s *Service) probeAsync(ctx context.Context, sem chan struct{}, name string, delay time.Duration) {
	go func() {
		if delay > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		defer func() { <-sem }()
		s.mu.Lock()
		svc := s.services[name]
		s.mu.Unlock()
		if svc == nil {
			return
		}
		st := s.prober.Probe(ctx, svc, nil)
		if ctx.Err() == nil {
			s.record(ctx, st)
		}
	}()
}
