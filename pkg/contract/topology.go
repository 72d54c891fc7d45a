package contract

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	StreamRegistry   = "SY_REGISTRY"
	StreamHealth     = "SY_HEALTH"
	StreamUsage      = "SY_USAGE"
	StreamRollups    = "SY_ROLLUPS"
	StreamCredential = "SY_CREDENTIAL"
)

// Durable consumer names.
const (
	// ConsumerMetering is the metering service's durable pull consumer on
	// SY_USAGE. All metering replicas share it.
	ConsumerMetering = "metering"
)

// KV bucket names.
const (
	BucketServices    = "sy_services"      // registry: Service records by name
	BucketCredentials = "sy_credentials"   // credential: envelope ciphertext only
	BucketStatus      = "sy_status"        // healthcheck: Status by service name
	BucketRoutes      = "sy_routes"        // router: model aliases
	BucketKeys        = "sy_keys"          // router: consumer key hashes only
	BucketUsage       = "sy_usage"         // metering: rollups
	BucketUsageLedger = "sy_usage_ledger"  // metering: request id -> stream seq
	BucketHealthLease = "sy_health_leases" // healthcheck: which replica probes a service in a round
)

// HealthLeaseTTL is how long a healthcheck probe lease is kept. Lease keys
// name their round, so the TTL only has to outlast the spread of one
// round's claims across replicas (jitter plus clock skew); it then keeps
// the bucket small.
const HealthLeaseTTL = time.Hour

// UsageDedupWindow is how long JetStream remembers a Nats-Msg-Id on the
// usage stream. It must exceed the router's publish retry horizon.
const UsageDedupWindow = 10 * time.Minute

// UsageBatchHeader marks a usage message that carries several events
// (issue 8: one JetStream write and fsync per batch instead of per event).
// Its value is UsageBatchFormat: the payload is a sequence of
// length-delimited (protobuf varint length, then bytes) UsageEvent
// messages, all for the message's consumer subject. A message without the
// header is one UsageEvent. The batch's Nats-Msg-Id is derived from its
// request ids, so a retried batch is deduplicated by the stream; metering
// claims each request id in its ledger as for single events.
// Provisional until the lead decides on a UsageBatch proto.
const (
	UsageBatchHeader = "Sy-Usage-Batch"
	UsageBatchFormat = "delimited-v1"
)

// UsageLedgerTTL bounds how long metering remembers a request id it has
// counted; duplicates older than this would be counted again, so it is far
// longer than any retry horizon.
const UsageLedgerTTL = 72 * time.Hour

// Options scale the topology to a deployment: one embedded server or a
// three-node cluster.
type Options struct {
	// Replicas for every stream and bucket (1 embedded, 3 in a cluster).
	Replicas int
	// UsageMaxBytes caps unconsumed usage events. With Discard: New a full
	// stream refuses new events instead of deleting unconsumed ones.
	UsageMaxBytes int64
}

// DefaultOptions fit the all-in-one binary.
func DefaultOptions() Options {
	return Options{Replicas: 1, UsageMaxBytes: 1 << 30}
}

// Topology is the full declared NATS surface.
type Topology struct {
	Streams   []jetstream.StreamConfig
	Buckets   []jetstream.KeyValueConfig
	Consumers []StreamConsumer
}

// StreamConsumer is a durable consumer and the stream it reads.
type StreamConsumer struct {
	Stream string
	Config jetstream.ConsumerConfig
}

// Declare returns every stream, bucket and consumer with its configuration.
func Declare(o Options) Topology {
	r := max(o.Replicas, 1)
	return Topology{
		Streams:   streams(o, r),
		Buckets:   buckets(r),
		Consumers: consumers(r),
	}
}

func streams(o Options, r int) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name: StreamRegistry, Subjects: []string{SubjRegistryEvents},
			Storage: jetstream.FileStorage, Replicas: r, MaxAge: 7 * 24 * time.Hour,
			Discard: jetstream.DiscardOld, Duplicates: 2 * time.Minute,
			Description: "registry events: a service was registered, updated or deregistered",
		},
		{
			Name: StreamHealth, Subjects: []string{SubjHealthEvents},
			Storage: jetstream.FileStorage, Replicas: r, MaxAge: 7 * 24 * time.Hour,
			Discard: jetstream.DiscardOld, Duplicates: 2 * time.Minute,
			Description: "health events: a service's status changed",
		},
		{
			// Work-queue retention removes an event once metering acks it, and
			// Discard: New makes a full stream refuse new events rather than
			// silently delete unconsumed ones (TEST-PLAN decision 3).
			Name: StreamUsage, Subjects: []string{SubjUsageEvents},
			Storage: jetstream.FileStorage, Replicas: r,
			Retention: jetstream.WorkQueuePolicy, Discard: jetstream.DiscardNew,
			MaxBytes: o.UsageMaxBytes, Duplicates: UsageDedupWindow,
			Description: "usage events, one per client request; Nats-Msg-Id is the request id",
		},
		{
			Name: StreamRollups, Subjects: []string{SubjRollupEvents},
			Storage: jetstream.FileStorage, Replicas: r, MaxAge: 24 * time.Hour,
			Discard:     jetstream.DiscardOld,
			Description: "metering rollups for dashboards",
		},
		{
			Name: StreamCredential, Subjects: []string{SubjCredentialEvents},
			Storage: jetstream.FileStorage, Replicas: r, MaxAge: 24 * time.Hour,
			Discard: jetstream.DiscardOld, MaxMsgsPerSubject: 10,
			Description: "credential events: the key behind a stored credential changed (never the key)",
		},
	}
}

func buckets(r int) []jetstream.KeyValueConfig {
	kv := func(name, desc string, history uint8, ttl time.Duration) jetstream.KeyValueConfig {
		return jetstream.KeyValueConfig{
			Bucket: name, Description: desc, History: history, TTL: ttl,
			Storage: jetstream.FileStorage, Replicas: r,
		}
	}
	return []jetstream.KeyValueConfig{
		kv(BucketServices, "registered external inference services", 5, 0),
		kv(BucketCredentials, "provider keys, envelope-encrypted (ciphertext only)", 5, 0),
		kv(BucketStatus, "health status per service", 1, 0),
		kv(BucketRoutes, "model aliases", 5, 0),
		kv(BucketKeys, "consumer keys, SHA-256 hashes only", 5, 0),
		kv(BucketUsage, "usage rollups per window, consumer, model and service", 1, 0),
		kv(BucketUsageLedger, "request ids already counted by metering", 1, UsageLedgerTTL),
		kv(BucketHealthLease, "healthcheck probe leases: one replica probes a service per round", 1, HealthLeaseTTL),
	}
}

func consumers(r int) []StreamConsumer {
	return []StreamConsumer{{
		Stream: StreamUsage,
		Config: jetstream.ConsumerConfig{
			Durable: ConsumerMetering, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: 30 * time.Second, MaxAckPending: MeteringBatch,
			DeliverPolicy: jetstream.DeliverAllPolicy, Replicas: r,
			// One metering replica is pinned at a time; the others take over
			// when it stops pulling. Applying events in stream order from a
			// single reader is what keeps rollups exactly-once.
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PriorityGroups: []string{MeteringPriorityGroup}, PinnedTTL: 5 * time.Second,
			Description: "metering: counts each usage event exactly once",
		},
	}}
}

// MeteringBatch bounds the usage events in flight to metering. Metering
// applies a batch in stream order before acking it, which keeps redeliveries
// in order (see services/metering).
const MeteringBatch = 256

// MeteringPriorityGroup is the priority group metering replicas pull with.
const MeteringPriorityGroup = "metering"

// EnsureTopology creates or updates every stream, bucket and consumer. It is
// idempotent: every service calls it at start.
func EnsureTopology(ctx context.Context, js jetstream.JetStream, o Options) error {
	t := Declare(o)
	for _, sc := range t.Streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("ensure stream %s: %w", sc.Name, err)
		}
	}
	for _, kc := range t.Buckets {
		if err := ensureBucket(ctx, js, kc); err != nil {
			return fmt.Errorf("ensure bucket %s: %w", kc.Bucket, err)
		}
	}
	for _, c := range t.Consumers {
		if _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, c.Config); err != nil {
			return fmt.Errorf("ensure consumer %s on %s: %w", c.Config.Durable, c.Stream, err)
		}
	}
	return nil
}

func ensureBucket(ctx context.Context, js jetstream.JetStream, kc jetstream.KeyValueConfig) error {
	_, err := js.CreateOrUpdateKeyValue(ctx, kc)
	if err == nil {
		return nil
	}
	// Replicas cannot change on an existing bucket in every server version;
	// an existing bucket is still usable.
	if _, getErr := js.KeyValue(ctx, kc.Bucket); getErr == nil && !errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
