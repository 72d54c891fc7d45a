package metering

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// publishBatch sends request ids from..to-1 as one batch message (the
// router's -usage-batch-max format), with ids listed twice when dup.
func (r *rig) publishBatch(t *testing.T, from, to int, msgID string, dup bool) {
	t.Helper()
	var data []byte
	for i := from; i < to; i++ {
		ev := &pb.UsageEvent{RequestId: fmt.Sprintf("req-%d", i), Consumer: "c1", Model: "m", Service: "svc",
			PromptTokens: 10, CompletionTokens: 3, Outcome: "complete", Time: timestamppb.New(r.at)}
		one, _ := proto.Marshal(ev)
		data = protowire.AppendBytes(data, one)
		if dup {
			data = protowire.AppendBytes(data, one)
		}
	}
	m := &nats.Msg{Subject: contract.UsageRecorded("c1"), Data: data,
		Header: nats.Header{contract.UsageBatchHeader: []string{contract.UsageBatchFormat}}}
	if _, err := r.js.PublishMsg(context.Background(), m, jetstream.WithMsgID(msgID)); err != nil {
		t.Fatal(err)
	}
}

// TestBatchedEventsCountedOnce: events that share one stream message (and
// so one sequence) are each folded in; the same requests again in another
// batch, in single messages, or twice inside a batch count once.
func TestBatchedEventsCountedOnce(t *testing.T) {
	cases := []struct {
		name    string
		publish func(*testing.T, *rig)
		wantDup int64
	}{
		{"one batch", func(t *testing.T, r *rig) { r.publishBatch(t, 0, 40, "b1", false) }, 0},
		{"batches and singles", func(t *testing.T, r *rig) {
			r.publishBatch(t, 0, 20, "b1", false)
			r.publish(t, 20, 40, byRequestID)
			r.publishBatch(t, 10, 30, "b2", false) // a regrouped replay after the dedupe window
		}, 20},
		{"an id twice in a batch", func(t *testing.T, r *rig) { r.publishBatch(t, 0, 40, "b1", true) }, 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			tc.publish(t, r)
			c, stop := r.start(t, nil)
			defer stop()
			waitFor(t, "40 counted", r.counted(t, 40))
			waitFor(t, "duplicates seen", func() bool { return c.Stats().Duplicates >= tc.wantDup })
			if got := r.minute(t); got.Requests != 40 || got.PromptTokens != 400 || got.CompletionTokens != 120 {
				t.Fatalf("minute rollup = %+v; want 40 requests, 400 prompt, 120 completion tokens", got)
			}
			if s := c.Stats(); s.Applied != 40 || s.Duplicates != tc.wantDup {
				t.Fatalf("applied %d, duplicates %d; want 40 and %d", s.Applied, s.Duplicates, tc.wantDup)
			}
		})
	}
}
