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
// everything or drainCtx ends.
func (p *Publisher) feedFromSpool(ctx, drainCtx context.Context, work chan<- item) {
	written := make(chan struct{})
	go func() {
		defer close(written)
		p.writeSpool(ctx, drainCtx, work)
	}()
	p.readSpool(drainCtx, written, work)
}

// writeSpool moves events from the intake to the spool, one fsync per
// batch, until ctx ends and the intake is empty.
func (p *Publisher) writeSpool(ctx, drainCtx context.Context, work chan<- item) {
	for {
		batch := p.takeBatch(ctx)
		if len(batch) == 0 {
			return
		}
		p.spoolBatch(drainCtx, batch, work)
	}
}

// takeBatch waits for at least one event (unless ctx ended) and takes what
// else is queued, up to maxSpoolBatch.
func (p *Publisher) takeBatch(ctx context.Context) []*pb.UsageEvent {
	var batch []*pb.UsageEvent
	select {
	case ev := <-p.intake:
		batch = append(batch, ev)
	case <-ctx.Done():
	}
	for len(batch) < maxSpoolBatch {
		select {
		case ev := <-p.intake:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

func (p *Publisher) spoolBatch(drainCtx context.Context, batch []*pb.UsageEvent, work chan<- item) {
	payloads := make([][]byte, 0, len(batch))
	for _, ev := range batch {
		if data, err := proto.Marshal(ev); err == nil {
			payloads = append(payloads, data)
		} else {
			p.addQueued(-1)
		}
	}
	err := p.spool.append(payloads)
	switch {
	case err == nil:
		p.spooled.Add(int64(len(payloads)))
		metrics.UsageSpooled.Add(float64(len(payloads)))
		metrics.UsageSpoolBytes.Set(float64(p.spool.bytes()))
	case errors.Is(err, errSpoolFull):
		p.addQueued(-int64(len(payloads)))
		p.drop("spool_full", len(payloads))
	default:
		// The disk failed: publish this batch from memory rather than lose it.
		p.log.Error("usage spool write failed; publishing the batch from memory", "events", len(payloads), "err", err)
		for i, data := range payloads {
			select {
			case work <- item{id: batch[i].GetRequestId(), subject: contract.UsageRecorded(batch[i].GetConsumer()), data: data, n: 1}:
			case <-drainCtx.Done():
				return
			}
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
	if seg.id < p.replayBelow {
		p.replayed.Add(1)
		metrics.UsageReplayed.Inc()
		p.addQueued(1)
	}
	return item{id: ev.GetRequestId(), subject: contract.UsageRecorded(ev.GetConsumer()), data: data, n: 1,
		segs: []*segment{seg}}, true
}
