package usage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchyard/switchyard/pkg/contract"
)

// maxBatchBytes keeps a batch well under NATS's default 1 MiB payload.
const maxBatchBytes = 512 << 10

// msg is the NATS message for it: a batch carries the format header.
func (it item) msg() *nats.Msg {
	m := &nats.Msg{Subject: it.subject, Data: it.data}
	if it.batch {
		m.Header = nats.Header{contract.UsageBatchHeader: []string{contract.UsageBatchFormat}}
	}
	return m
}

// builder gathers one consumer's events into one message.
type builder struct {
	subject string
	ids     []string
	data    []byte
	segs    []*segment
}

func (b *builder) add(it item) {
	b.ids = append(b.ids, it.id)
	b.data = protowire.AppendBytes(b.data, it.data)
	b.segs = append(b.segs, it.segs...)
}

// item turns the builder into what a worker publishes. One event stays a
// plain message with its request id as Nats-Msg-Id, exactly as without
// batching. A batch's id hashes its request ids: a retry of the same batch
// is refused by the stream's dedupe window, and a batch regrouped after a
// restart (other ids, other hash) is still counted once by metering's
// per-request ledger.
func (b *builder) item(single item) item {
	if len(b.ids) == 1 {
		return single
	}
	h := sha256.New()
	for _, id := range b.ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return item{id: "batch-" + hex.EncodeToString(h.Sum(nil)[:16]), subject: b.subject, data: b.data,
		batch: true, n: len(b.ids), segs: b.segs}
}

// batch groups items from in by subject (consumer) into messages of up to
// BatchMax events, waiting up to BatchLinger after the first item of a
// round, and hands them to out in arrival order of their first event. It
// closes out once in is closed and everything is handed on (or drainCtx
// ends).
func (p *Publisher) batch(drainCtx context.Context, in <-chan item, out chan<- item) {
	defer close(out)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-in
		if !ok {
			return
		}
		timer.Reset(p.cfg.BatchLinger)
		round, open := p.gather(first, in, timer)
		timer.Stop()
		for _, it := range round {
			select {
			case out <- it:
			case <-drainCtx.Done():
				return // unsent: kept in the spool, or counted as not published
			}
		}
		if !open {
			return
		}
	}
}

// gather collects items until the linger timer fires, BatchMax events
// arrived or in is closed (open=false). Full batches are finished at once.
func (p *Publisher) gather(first item, in <-chan item, timer *time.Timer) (round []item, open bool) {
	var order []*builder
	bySubject := map[string]*builder{}
	singles := map[*builder]item{}
	total := 0
	add := func(it item) {
		b := bySubject[it.subject]
		if b == nil {
			b = &builder{subject: it.subject}
			bySubject[it.subject], singles[b] = b, it
			order = append(order, b)
		}
		b.add(it)
		total++
		if len(b.ids) >= p.cfg.BatchMax || len(b.data) >= maxBatchBytes {
			round = append(round, b.item(singles[b]))
			delete(bySubject, it.subject)
			b.ids = nil // finished: skipped below
		}
	}
	add(first)
	open = true
	for open && total < p.cfg.BatchMax {
		select {
		case it, ok := <-in:
			if !ok {
				open = false
				break
			}
			add(it)
		case <-timer.C:
			return p.finish(round, order, singles), true
		}
	}
	return p.finish(round, order, singles), open
}

func (p *Publisher) finish(round []item, order []*builder, singles map[*builder]item) []item {
	for _, b := range order {
		if len(b.ids) > 0 {
			round = append(round, b.item(singles[b]))
		}
	}
	return round
}
