// Package healthcheck is the healthcheck service: it probes every
// registered external inference service with a cheap, protocol-specific
// metadata read (never a paid completion), keeps each one's status and an
// actionable message in the sy_status bucket, and publishes a health event
// on every change. The registry asks it for an inline probe before any
// create or change.
//
// Owns: the sy_status KV bucket.
// Serves: sy.rpc.v1.health.probe.
// Watches: sy_services. Publishes: sy.evt.health.<service>.changed.
// Claims: sy_health_leases (one replica probes a service per round).
//
// Refresh rounds are aligned to the wall clock (round = now / interval), so
// replicas agree on them without talking. Each service's probe in a round
// starts at an offset inside the jitter window derived from its name and the
// round, the same on every replica; the replicas then race to create the
// lease key <service>.r<round> in sy_health_leases and only the winner
// probes. A KV lease was chosen over a work queue of probe jobs because it
// needs no scheduler or leader to publish the jobs, no consumer state, and
// a replica under load (its probe slots full) claims later and so loses to
// an idle one. The cost: a replica that dies between claim and write loses
// that service's round; the next round covers it.
package healthcheck

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/healthcheck/internal/probe"
	"github.com/switchyard/switchyard/services/healthcheck/internal/store"
)

// inlineResultTTL is how long an inline probe's result stands in for the
// first background probe of the service it was made for.
const inlineResultTTL = time.Minute

// Config tunes the background refresh.
type Config struct {
	Interval    time.Duration // between rounds (default 5 min)
	Jitter      time.Duration // a round's probes are spread over this (below Interval)
	Concurrency int           // probes in flight at once on this replica
	// Owner names this replica in the leases it claims (for debugging).
	Owner string
}

// Service is the healthcheck service.
type Service struct {
	cfg    Config
	prober *Prober
	store  *store.Store
	js     jetstream.JetStream
	log    *slog.Logger

	sem  chan struct{} // bounds probes in flight
	cold bool          // no other replica was running at start

	mu       sync.Mutex
	services map[string]*pb.Service
	recent   map[string]recentProbe
}

type recentProbe struct {
	service *pb.Service
	status  *pb.Status
	at      time.Time
}

// New returns the service.
func New(cfg Config, p *Prober, s *store.Store, js jetstream.JetStream, log *slog.Logger) *Service {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	if cfg.Jitter >= cfg.Interval || cfg.Jitter < 0 {
		cfg.Jitter = cfg.Interval / 2 // a round's probes must finish spreading before the next round
	}
	return &Service{
		cfg: cfg, prober: p, store: s, js: js, log: log,
		sem:      make(chan struct{}, cfg.Concurrency),
		services: map[string]*pb.Service{}, recent: map[string]recentProbe{},
	}
}

// InlineProbe probes a service that is about to be registered or changed.
// It writes nothing: the status is recorded when the registry's write of
// the service arrives through the watch, so a refused registration leaves
// no status behind.
func (s *Service) InlineProbe(ctx context.Context, req *pb.ProbeRequest) (*pb.Status, error) {
	svc := req.GetService()
	if svc.GetName() == "" || svc.GetBaseUrl() == "" || svc.GetProtocol() == "" {
		return nil, apierr.Field("service", "a probe needs the service's name, base_url and protocol")
	}
	st := s.prober.Probe(ctx, svc, req.GetCredential())
	s.mu.Lock()
	s.recent[svc.GetName()] = recentProbe{service: proto.Clone(svc).(*pb.Service), status: st, at: time.Now()}
	s.mu.Unlock()
	return st, nil
}

// record stores st, keeping the time of the last transition when the state
// did not change, and publishes a health event when it did.
func (s *Service) record(ctx context.Context, st *pb.Status) {
	s.mu.Lock()
	_, known := s.services[st.GetService()]
	s.mu.Unlock()
	if !known {
		return // deregistered while the probe ran
	}
	prev, err := s.store.GetStatus(ctx, st.GetService())
	if err != nil {
		s.log.Warn("read status", "service", st.GetService(), "err", err)
	}
	if notChecked(st) && verified(prev) {
		// The probe could not run: what the last one found still stands.
		s.log.Warn("probe not run; the last verified status stands", "service", st.GetService(),
			"state", prev.GetState(), "reason", st.GetMessage())
		probesNotRun.Inc()
		return
	}
	if prev != nil && prev.GetState() == st.GetState() {
		st.TransitionedAt = prev.GetTransitionedAt()
	}
	if err := s.store.PutStatus(ctx, st); err != nil {
		s.log.Warn("write status", "service", st.GetService(), "err", err)
		return
	}
	changed := prev == nil || prev.GetState() != st.GetState() || prev.GetMessage() != st.GetMessage()
	observeStatus(st, changed)
	if changed {
		s.publishChange(ctx, prev, st)
	}
}

func (s *Service) publishChange(ctx context.Context, prev, cur *pb.Status) {
	data, err := proto.Marshal(&pb.HealthEvent{Previous: prev, Current: cur})
	if err == nil {
		_, err = s.js.Publish(ctx, contract.HealthChanged(cur.GetService()), data)
	}
	if err != nil {
		s.log.Warn("publish health event", "service", cur.GetService(), "err", err)
		return
	}
	s.log.Info("status changed", "service", cur.GetService(), "state", cur.GetState(), "message", cur.GetMessage())
}

// markPending records that name has not been verified since this
// replica's cold start. The write is a compare-and-set on the revision read,
// so of several replicas starting together one wins, and only the winner
// probes; it reports whether this replica won.
func (s *Service) markPending(ctx context.Context, name string) bool {
	prev, rev, err := s.store.GetStatusRev(ctx, name)
	if err != nil {
		s.log.Warn("read status", "service", name, "err", err)
		return false
	}
	st := pendingStatus(name)
	if prev.GetState() == st.GetState() {
		st.TransitionedAt = prev.GetTransitionedAt()
	}
	won, err := s.store.PutStatusIf(ctx, st, rev)
	if err != nil {
		s.log.Warn("write status", "service", name, "err", err)
	}
	if won && prev.GetState() != st.GetState() {
		s.publishChange(ctx, prev, st)
	}
	return won
}

func pendingStatus(name string) *pb.Status {
	now := timestamppb.Now()
	return &pb.Status{Service: name, State: string(probe.StatusPending), Message: probe.PendingMessage,
		CheckedAt: now, TransitionedAt: now}
}

// notChecked says the probe behind st never reached the upstream.
func notChecked(st *pb.Status) bool { return st.GetState() == string(probe.StatusUnknown) }

// verified says a probe reached the upstream to find st.
func verified(st *pb.Status) bool {
	return st.GetState() == string(probe.StatusReady) || st.GetState() == string(probe.StatusFailed)
}
