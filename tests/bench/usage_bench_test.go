package bench

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// usageJetStream is a real JetStream server with Switchyard's topology
// (SY_USAGE with its 10-minute Nats-Msg-Id dedupe window). syncAlways
// fsyncs every write, as the all-in-one's embedded server does.
func usageJetStream(b *testing.B, syncAlways bool, opts ...jetstream.JetStreamOpt) jetstream.JetStream {
	b.Helper()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: b.TempDir(),
		ServerName: "bench", SyncAlways: syncAlways})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	js, err := jetstream.New(natsx.TestConn(b, ns, "bench-usage"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		b.Fatal(err)
	}
	return js
}

// usageEvent is a typical event as the edge fills it in.
func usageEvent(i int) *pb.UsageEvent {
	return &pb.UsageEvent{
		RequestId: "req_0123456789ab_" + strconv.FormatInt(int64(i), 36), Consumer: "anonymous",
		Service: "openai-main", Model: "gpt-4o-mini", Protocol: "OPENAI_V1", StatusCode: 200,
		PromptTokens: 12, CompletionTokens: 200, LatencyMs: 35, TtftMs: 3, Outcome: "complete",
		Time: timestamppb.Now(), Stream: true,
	}
}

// BenchmarkUsageEventMarshal is the encoding the publisher does per event.
func BenchmarkUsageEventMarshal(b *testing.B) {
	ev := usageEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsagePublish compares the router publisher's way (one
// synchronous, acknowledged publish per event, from a few workers) with
// asynchronous publishes that keep many acks in flight. ns/op is per
// event; with workers, the effective per-event cost is ns/op as measured
// by RunParallel.
func BenchmarkUsagePublish(b *testing.B) {
	subject := contract.UsageRecorded("anonymous")
	for _, store := range []struct {
		name       string
		syncAlways bool
	}{{"store-default", false}, {"store-sync-always", true}} {
		b.Run(store.name+"/sync-1-worker", func(b *testing.B) {
			publishSync(b, usageJetStream(b, store.syncAlways), subject, 0)
		})
		b.Run(store.name+"/sync-4-workers", func(b *testing.B) {
			js := usageJetStream(b, store.syncAlways)
			b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 workers, the router's default
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					publishOne(b, js, subject, int(next.Add(1)))
				}
			})
		})
		b.Run(store.name+"/async-window-256", func(b *testing.B) {
			publishAsync(b, usageJetStream(b, store.syncAlways, jetstream.WithPublishAsyncMaxPending(256)), subject)
		})
	}
}

func publishAsync(b *testing.B, js jetstream.JetStream, subject string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		data, err := proto.Marshal(usageEvent(i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishAsync(subject, data, jetstream.WithMsgID(strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		b.Fatal("async publishes not acknowledged")
	}
}

func publishSync(b *testing.B, js jetstream.JetStream, subject string, offset int) {
	b.ReportAllocs()
	i := offset
	for b.Loop() {
		i++
		publishOne(b, js, subject, i)
	}
}

func publishOne(b *testing.B, js jetstream.JetStream, subject string, i int) {
	ev := usageEvent(i)
	data, err := proto.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, subject, data, jetstream.WithMsgID(ev.GetRequestId())); err != nil {
		b.Fatal(err)
	}
}
