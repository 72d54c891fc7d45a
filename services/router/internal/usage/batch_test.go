package usage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// readAll returns every request id in the usage stream, by consumer,
// decoding batch messages, and how many messages carried them.
func readAll(t *testing.T, js jetstream.JetStream) (ids map[string][]string, msgs int) {
	t.Helper()
	ctx := context.Background()
	stream, err := js.Stream(ctx, contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	ids = map[string][]string{}
	for seq := range streamMsgs(t, js) {
		m, err := stream.GetMsg(ctx, seq+1)
		if err != nil {
			t.Fatal(err)
		}
		msgs++
		for _, data := range payloadsOf(t, m.Header, m.Data) {
			var ev pb.UsageEvent
			if err := proto.Unmarshal(data, &ev); err != nil {
				t.Fatal(err)
			}
			if m.Subject != contract.UsageRecorded(ev.GetConsumer()) {
				t.Fatalf("event of %q on subject %q", ev.GetConsumer(), m.Subject)
			}
			ids[ev.GetConsumer()] = append(ids[ev.GetConsumer()], ev.GetRequestId())
		}
	}
	return ids, msgs
}

func payloadsOf(t *testing.T, h nats.Header, data []byte) [][]byte {
	if h.Get(contract.UsageBatchHeader) != contract.UsageBatchFormat {
		return [][]byte{data}
	}
	var out [][]byte
	for len(data) > 0 {
		ev, n := protowire.ConsumeBytes(data)
		if n < 0 {
			t.Fatal("torn batch")
		}
		out, data = append(out, ev), data[n:]
	}
	return out
}

// TestBatchesCarryEveryEventOnce: with batching on, events of two
// consumers share far fewer messages, each message holds one consumer's
// events, and every request id is there exactly once, in publish order.
func TestBatchesCarryEveryEventOnce(t *testing.T) {
	for _, spooled := range []bool{false, true} {
		t.Run(fmt.Sprintf("spool=%v", spooled), func(t *testing.T) {
			js := newJS(t, true)
			cfg := Config{BatchMax: 64, BatchLinger: 20 * time.Millisecond}
			if spooled {
				cfg.SpoolDir = t.TempDir()
			}
			p := mustNew(t, cfg, js)
			stop := running(p)
			const n = 1000
			for i := range n {
				p.Publish(&pb.UsageEvent{RequestId: fmt.Sprintf("req-%d", i), Consumer: fmt.Sprintf("c%d", i%2)})
			}
			eventually(t, "all published", func() bool { return p.Stats().Published == n })
			stop()
			ids, msgs := readAll(t, js)
			if msgs > n/10 {
				t.Errorf("%d messages for %d events; want batches", msgs, n)
			}
			for c, got := range ids {
				if len(got) != n/2 {
					t.Fatalf("consumer %s: %d events; want %d", c, len(got), n/2)
				}
				for k, id := range got {
					if want := fmt.Sprintf("req-%d", 2*k+int(c[1]-'0')); id != want {
						t.Fatalf("consumer %s event %d is %s; want %s", c, k, id, want)
					}
				}
			}
			t.Logf("%d events in %d messages", n, msgs)
		})
	}
}

// TestSingleEventKeepsRequestID: a batch of one is a plain message with
// the request id as Nats-Msg-Id, as without batching.
func TestSingleEventKeepsRequestID(t *testing.T) {
	js := newJS(t, true)
	p := mustNew(t, Config{BatchMax: 64, BatchLinger: time.Millisecond}, js)
	defer running(p)()
	p.Publish(&pb.UsageEvent{RequestId: "only-one", Consumer: "c1"})
	eventually(t, "published", func() bool { return p.Stats().Published == 1 })
	s, err := js.Stream(context.Background(), contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(jetstream.MsgIDHeader) != "only-one" || m.Header.Get(contract.UsageBatchHeader) != "" {
		t.Fatalf("headers %v; want Nats-Msg-Id only-one and no batch header", m.Header)
	}
}
