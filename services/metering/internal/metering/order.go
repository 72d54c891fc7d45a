package metering

import "github.com/nats-io/nats.go/jetstream"

// sequencer releases usage events in contiguous stream order.
//
// Each rollup remembers the last stream sequence folded into it, and an
// event at or below that sequence is skipped as already counted. That
// check is only sound if every event is applied after every event before
// it. JetStream does not promise that on its own: after a crash, the
// events the dead reader held stay pending until AckWait expires, while
// newer events are delivered to the next reader at once. Applied blindly,
// the newer events would raise LastSeq and the redelivered older ones
// would then be skipped and lost. The sequencer holds anything that
// arrives ahead of its turn until the gap is filled by the redelivery, or
// the consumer's ack floor shows the gap was acked (or deleted) already.
//
// Everything held is pending on the consumer, so the buffer is bounded by
// MaxAckPending.
type sequencer struct {
	next uint64 // the stream sequence that must be applied next
	held map[uint64]jetstream.Msg
}

func newSequencer(ackFloor uint64) *sequencer {
	return &sequencer{next: ackFloor + 1, held: map[uint64]jetstream.Msg{}}
}

// add takes a delivered message. It reports false when seq is below next:
// that event was applied already (by this reader, or by one before it that
// acked it) and its redelivery only needs an ack.
func (s *sequencer) add(seq uint64, m jetstream.Msg) bool {
	if seq < s.next {
		return false
	}
	s.held[seq] = m // a redelivery of a held event replaces the older delivery
	return true
}

// ready removes and returns the contiguous run starting at next.
func (s *sequencer) ready() []jetstream.Msg {
	var run []jetstream.Msg
	for {
		m, ok := s.held[s.next]
		if !ok {
			return run
		}
		delete(s.held, s.next)
		run = append(run, m)
		s.next++
	}
}

// waiting reports how many events wait for an earlier one.
func (s *sequencer) waiting() int { return len(s.held) }

// advance moves next past sequences the consumer's ack floor shows were
// acked: nobody will deliver them again. Held messages now below next
// were counted by another reader; they are returned to be acked.
func (s *sequencer) advance(ackFloor uint64) []jetstream.Msg {
	s.next = max(s.next, ackFloor+1)
	var stale []jetstream.Msg
	for seq, m := range s.held {
		if seq < s.next {
			stale = append(stale, m)
			delete(s.held, seq)
		}
	}
	return stale
}

// release hands back the held messages (to be nak'ed) and empties the
// buffer, for a reader that stops or loses its pin.
func (s *sequencer) release() []jetstream.Msg {
	out := make([]jetstream.Msg, 0, len(s.held))
	for seq, m := range s.held {
		out = append(out, m)
		delete(s.held, seq)
	}
	return out
}
