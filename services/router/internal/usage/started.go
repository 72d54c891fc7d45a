package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
)

// A request that reaches an upstream leaves two records in the spool: a
// started marker, written (and fsynced) before the upstream sees the
// request, and its final usage event, written when the request ends. A
// marker is a UsageEvent with outcome "started"; it is never published.
// At start, every marker left by the previous run without a final event
// becomes a usage event with outcome "interrupted" (the router died while
// the request ran): same request id, time, consumer, model and service as
// the marker, zero tokens.
const (
	// OutcomeStarted marks a spool record as a started marker.
	OutcomeStarted = "started"
	// OutcomeInterrupted is the outcome of a request the router died in.
	OutcomeInterrupted = "interrupted"
)

// Start records that the request ev describes is about to reach an
// upstream. ev is the request's usage event as known before the call (no
// tokens, no status); Start keeps its own copy. With a spool it waits,
// up to StartWait or until ctx ends, for the marker's group commit, so a
// crash after the upstream call still meters the request. Without a spool
// it does nothing: a crash loses the memory queue anyway.
func (p *Publisher) Start(ctx context.Context, ev *pb.UsageEvent) {
	if p.spool == nil {
		return
	}
	marker := proto.CloneOf(ev)
	marker.Outcome = OutcomeStarted
	e := entry{ev: marker, synced: make(chan struct{})}
	select {
	case p.intake <- e:
	default:
		p.drop("marker_queue_full", 1)
		return
	}
	if p.cfg.StartWait <= 0 {
		return
	}
	t := time.NewTimer(p.cfg.StartWait)
	defer t.Stop()
	select {
	case <-e.synced:
	case <-t.C:
	case <-ctx.Done():
	}
}

// trackLocked opens the markers and closes the markers of the final
// events among recs, just made durable in seg. A marker carried forward
// moves from its old segment to seg.
func (s *spool) trackLocked(seg *segment, recs []record) {
	for _, r := range recs {
		if old := s.open[r.id]; old != nil {
			old.seg.open--
			delete(s.open, r.id)
		}
		if r.marker {
			s.open[r.id] = &openMarker{seg: seg, payload: r.payload}
			seg.open++
		}
	}
	if s.carry {
		s.carry = false
		s.collectLocked() // a segment held by markers that just moved can go
	}
}

// carried returns the open markers of the segments that wait only for
// them, to be appended again; nil when there are none.
func (s *spool) carried() []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.carry {
		return nil
	}
	waiting := map[*segment]bool{}
	for _, seg := range s.segs {
		if !seg.sealed || seg.readOff < seg.size || seg.inflight > 0 {
			break
		}
		waiting[seg] = seg.open > 0
	}
	var recs []record
	for id, m := range s.open {
		if waiting[m.seg] {
			recs = append(recs, record{id: id, payload: m.payload, marker: true})
		}
	}
	return recs
}

// carryForward copies the open markers of otherwise finished segments to
// the active one, so those segments can be deleted. On failure (spool
// full, disk error) the markers stay where they are and it is tried again.
func (p *Publisher) carryForward() {
	recs := p.spool.carried()
	if len(recs) == 0 {
		return
	}
	if err := p.spool.append(recs); err != nil && !errors.Is(err, errSpoolFull) {
		p.log.Error("usage spool: carrying started markers forward failed", "markers", len(recs), "err", err)
	}
}

// resolveInterrupted reads the segments left by the previous run and
// appends, to this run's first segment, an interrupted event for every
// started marker without a final event. It runs before Run, so those
// events are durable before any old segment can be deleted; a crash
// during the replay finds them next time as final events of their
// markers and publishes them again under the same request id.
func (p *Publisher) resolveInterrupted() error {
	markers, finals := p.spool.scanLeft()
	var recs []record
	for _, m := range markers {
		if finals[m.GetRequestId()] {
			continue
		}
		finals[m.GetRequestId()] = true // a marker caught mid-carry is on disk twice

		data, err := proto.Marshal(interrupted(m))
		if err != nil {
			return err
		}
		recs = append(recs, record{id: m.GetRequestId(), payload: data})
	}
	if len(recs) == 0 {
		return nil
	}
	if err := p.spool.append(recs); err != nil {
		return fmt.Errorf("writing %d interrupted usage events: %w", len(recs), err)
	}
	p.interrupted.Add(int64(len(recs)))
	p.addQueued(int64(len(recs)))
	metrics.UsageSpooled.Add(float64(len(recs)))
	p.log.Warn("requests interrupted by the previous run's end are metered as interrupted", "count", len(recs))
	return nil
}

// interrupted is the usage event of a request known only by its marker.
func interrupted(marker *pb.UsageEvent) *pb.UsageEvent {
	ev := proto.CloneOf(marker)
	ev.Outcome = OutcomeInterrupted
	return ev
}

// scanLeft reads every record of the segments left by a previous run (all
// but the active one): the started markers in order, and the request ids
// that have a final event.
func (s *spool) scanLeft() (markers []*pb.UsageEvent, finals map[string]bool) {
	s.mu.Lock()
	left := append([]*segment(nil), s.segs[:len(s.segs)-1]...)
	s.mu.Unlock()
	finals = map[string]bool{}
	for _, seg := range left {
		scan := &segment{path: seg.path, size: seg.size}
		for scan.readOff < scan.size {
			data, err := s.readLocked(scan)
			if err != nil {
				break // a torn tail, as in next
			}
			var ev pb.UsageEvent
			if proto.Unmarshal(data, &ev) != nil || ev.GetRequestId() == "" {
				continue
			}
			if ev.GetOutcome() == OutcomeStarted {
				markers = append(markers, &ev)
			} else {
				finals[ev.GetRequestId()] = true
			}
		}
		if scan.reader != nil {
			_ = scan.reader.Close()
		}
	}
	return markers, finals
}
