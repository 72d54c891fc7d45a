package healthcheck

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
)

// round is the index of the refresh round that contains t.
func (s *Service) round(t time.Time) int64 { return t.UnixNano() / int64(s.cfg.Interval) }

func (s *Service) roundStart(r int64) time.Time { return time.Unix(0, r*int64(s.cfg.Interval)) }

// offset spreads a round's probes over the jitter window. It depends only
// on the service and the round, so every replica wakes for a probe at the
// same moment and the lease decides which one runs it; it changes from
// round to round, so no service is always probed first.
func (s *Service) offset(name string, r int64) time.Duration {
	if s.cfg.Jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	_, _ = h.Write(binary.BigEndian.AppendUint64(nil, uint64(r)))
	return time.Duration(h.Sum64() % uint64(s.cfg.Jitter))
}

// roundLease names the one probe of a service in round r.
func roundLease(r int64) string { return "r" + strconv.FormatInt(r, 10) }

func (s *Service) refreshLoop(ctx context.Context) {
	for {
		r := s.round(time.Now()) + 1
		start := s.roundStart(r)
		if !sleepUntil(ctx, start) {
			return
		}
		for _, name := range s.names() {
			s.goProbe(ctx, name, roundLease(r), start.Add(s.offset(name, r)))
		}
	}
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

// goProbe probes name at the given time if this replica wins the lease
// ("" probes without one). The lease is claimed only once a probe slot is
// free, so a replica whose slots are full claims late and an idle replica
// takes the probe instead.
func (s *Service) goProbe(ctx context.Context, name, lease string, at time.Time) {
	go func() {
		if !sleepUntil(ctx, at) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case s.sem <- struct{}{}:
		}
		defer func() { <-s.sem }()
		s.mu.Lock()
		svc := s.services[name]
		s.mu.Unlock()
		if svc == nil || (lease != "" && !s.claim(ctx, name, lease)) {
			return
		}
		st := s.prober.Probe(ctx, svc, nil)
		if ctx.Err() == nil {
			s.record(ctx, st)
		}
	}()
}

// claim reports whether this replica won lease for name. An error (NATS
// away) counts as lost: without NATS the result could not be stored.
func (s *Service) claim(ctx context.Context, name, lease string) bool {
	won, err := s.store.Claim(ctx, contract.Key(name, lease), s.cfg.Owner)
	if err != nil {
		s.log.Warn("claim probe lease", "service", name, "lease", lease, "err", err)
	}
	return won
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// PeersAlive reports whether another healthcheck replica answers a NATS
// micro ping within wait. Call it before serving, so the answer cannot be
// this replica's own.
func PeersAlive(nc *nats.Conn, wait time.Duration) bool {
	subj, err := micro.ControlSubject(micro.PingVerb, ServiceName, "")
	if err != nil {
		return false
	}
	_, err = nc.Request(subj, nil, wait)
	return err == nil
}

// ServiceName is the healthcheck's NATS micro service name.
const ServiceName = "healthcheck"
