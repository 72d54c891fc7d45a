package usage

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
)

// maxSpoolBatch bounds one group commit.
const maxSpoolBatch = 4096

// feedFromSpool runs the spool writer (intake → disk) and the spool reader
// (disk → workers). On shutdown the writer first puts everything left in
// the intake on disk; the reader then keeps publishing until it has read
// everything or drainCtx ends. It returns only after the writer has
// returned: the writer may still hand events to work (a batch the disk
// refused) and use the spool, and Run closes both once this returns.
func (p *Publisher) feedFromSpool(ctx, drainCtx context.Context, work chan<- item) {
	written := make(chan struct{})
	go func() {
		defer close(written)
		p.writeSpool(ctx, drainCtx, work)
	}()
	p.readSpool(drainCtx, written, work)
	<-written
}

// carryEvery is how often an idle writer looks for started markers to
// carry forward (it also looks after every batch).
const carryEvery = time.Second

// writeSpool moves events and started markers from the intake to the
// spool, one fsync per batch, until ctx ends and the intake is empty.
func (p *Publisher) writeSpool(ctx, drainCtx context.Context, work chan<- item) {
	tick := time.NewTicker(carryEvery)
	defer tick.Stop()
	for {
		batch, idle := p.takeBatch(ctx, tick.C)
		if len(batch) == 0 && !idle {
			return
		}
		if len(batch) > 0 {
			p.spoolBatch(drainCtx, batch, work)
		}
		p.carryForward()
	}
}

// takeBatch waits for at least one entry (unless ctx ended or idle ticks)
// and takes what else is queued, up to maxSpoolBatch.
func (p *Publisher) takeBatch(ctx context.Context, idle <-chan time.Time) ([]entry, bool) {
	var batch []entry
	select {
	case e := <-p.intake:
		batch = append(batch, e)
	case <-idle:
		return nil, true
	case <-ctx.Done():
	}
	for len(batch) < maxSpoolBatch {
		select {
		case e := <-p.intake:
			batch = append(batch, e)
		default:
			return batch, false
		}
	}
	return batch, false
}

func (p *Publisher) spoolBatch(drainCtx context.Context, batch []entry, work chan<- item) {
	recs := make([]record, 0, len(batch))
	kept := batch[:0:0] // the entries of recs, in order
	events := 0
	for _, e := range batch {
		data, err := proto.Marshal(e.ev)
		if e.synced == nil {
			events++
		}
		if err != nil {
			events -= p.unencodable(e)
			continue
		}
		recs = append(recs, record{id: e.ev.GetRequestId(), payload: data, marker: e.synced != nil})
		kept = append(kept, e)
	}
	err := p.spool.append(recs)
	for _, e := range batch {
		if e.synced != nil {
			close(e.synced) // durable on success; on failure the request must not wait longer
		}
	}
	switch {
	case err == nil:
		p.spooled.Add(int64(events))
		metrics.UsageSpooled.Add(float64(events))
		metrics.UsageSpoolBytes.Set(float64(p.spool.bytes()))
	case errors.Is(err, errSpoolFull):
		p.addQueued(-int64(events))
		p.drop("spool_full", events)
		p.drop("marker_spool_full", len(recs)-events)
	default:
		p.log.Error("usage spool write failed; publishing the batch's events from memory", "events", events,
			"started_markers_lost", len(recs)-events, "err", err)
		p.publishFromMemory(drainCtx, recs, kept, work)
	}
}

// unencodable accounts for an entry that cannot be encoded; it returns 1
// for a final event (no longer queued), 0 for a marker.
func (p *Publisher) unencodable(e entry) int {
	p.log.Error("encode usage event", "request_id", e.ev.GetRequestId())
	if e.synced != nil {
		return 0
	}
	p.addQueued(-1)
	return 1
}

// publishFromMemory hands the final events of a batch the disk refused to
// the workers, rather than lose them. Markers are never published.
func (p *Publisher) publishFromMemory(drainCtx context.Context, recs []record, kept []entry, work chan<- item) {
	for i, r := range recs {
		if r.marker {
			continue
		}
		select {
		case work <- item{id: r.id, subject: contract.UsageRecorded(kept[i].ev.GetConsumer()), data: r.payload, n: 1}:
		case <-drainCtx.Done():
			return
		}
	}
}

// readSpool hands spooled records to the workers in order. It ends when
// drainCtx ends, or once the writer is done and everything is read.
func (p *Publisher) readSpool(drainCtx context.Context, written <-chan struct{}, work chan<- item) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	writerDone := false
	for {
		data, seg, ok := p.spool.next()
		if !ok {
			if writerDone {
				return // the writer had finished before this read: all is read
			}
			select {
			case <-written:
				writerDone = true
			case <-p.spool.notify:
			case <-tick.C:
			case <-drainCtx.Done():
				return
			}
			continue
		}
		it, ok := p.decodeSpooled(data, seg)
		if !ok {
			continue
		}
		select {
		case work <- it:
		case <-drainCtx.Done():
			return
		}
	}
}

func (p *Publisher) decodeSpooled(data []byte, seg *segment) (item, bool) {
	var ev pb.UsageEvent
	if err := proto.Unmarshal(data, &ev); err != nil || ev.GetRequestId() == "" {
		p.log.Error("skipping an unreadable usage spool record", "err", err)
		p.spool.done(seg)
		return item{}, false
	}
	if ev.GetOutcome() == OutcomeStarted {
		p.spool.done(seg) // a marker: kept by its open count, never published
		return item{}, false
	}
	if seg.id < p.replayBelow {
		p.replayed.Add(1)
		metrics.UsageReplayed.Inc()
		p.addQueued(1)
	}
	return item{id: ev.GetRequestId(), subject: contract.UsageRecorded(ev.GetConsumer()), data: data, n: 1,
		segs: []*segment{seg}}, true
}
