package metering

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// fakeMsg stands in for a delivered message; only its identity matters to
// the sequencer.
type fakeMsg struct {
	jetstream.Msg
	seq uint64
}

func seqs(ms []jetstream.Msg) []uint64 {
	out := make([]uint64, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.(fakeMsg).seq)
	}
	slices.Sort(out)
	return out
}

func TestSequencer(t *testing.T) {
	tests := []struct {
		name      string
		ackFloor  uint64
		delivered []uint64
		advanceTo uint64 // ack floor seen later; 0: none
		wantRun   []uint64
		wantStale []uint64 // acked at once: below next
		wantHeld  int
	}{
		{name: "in order", ackFloor: 0, delivered: []uint64{1, 2, 3}, wantRun: []uint64{1, 2, 3}},
		{name: "newer events wait for a redelivery", ackFloor: 10, delivered: []uint64{14, 15}, wantHeld: 2},
		{name: "the redelivery releases them", ackFloor: 10, delivered: []uint64{14, 12, 13, 11}, wantRun: []uint64{11, 12, 13, 14}},
		{name: "already applied redelivery is stale", ackFloor: 10, delivered: []uint64{9, 11}, wantRun: []uint64{11}, wantStale: []uint64{9}},
		{name: "gap acked elsewhere unblocks", ackFloor: 10, delivered: []uint64{14, 15}, advanceTo: 13, wantRun: []uint64{14, 15}},
		{name: "held event acked elsewhere is stale", ackFloor: 10, delivered: []uint64{12, 14}, advanceTo: 12, wantRun: nil, wantStale: []uint64{12}, wantHeld: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSequencer(tt.ackFloor)
			var stale, run []jetstream.Msg
			for _, seq := range tt.delivered {
				if !s.add(seq, fakeMsg{seq: seq}) {
					stale = append(stale, fakeMsg{seq: seq})
				}
			}
			if tt.advanceTo > 0 {
				stale = append(stale, s.advance(tt.advanceTo)...)
			}
			run = s.ready()
			if got := seqs(run); !slices.Equal(got, tt.wantRun) && (len(got) > 0 || len(tt.wantRun) > 0) {
				t.Errorf("run = %v; want %v", got, tt.wantRun)
			}
			if got := seqs(stale); !slices.Equal(got, tt.wantStale) && (len(got) > 0 || len(tt.wantStale) > 0) {
				t.Errorf("stale = %v; want %v", got, tt.wantStale)
			}
			if s.waiting() != tt.wantHeld {
				t.Errorf("held = %d; want %d", s.waiting(), tt.wantHeld)
			}
		})
	}
}
