package natsperm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/runtime"
)

// grant is what one service does on NATS; each must be allowed, so the
// refusals above are not a server that refuses everything.
type grant struct {
	user             string
	reads, writes    []string // KV buckets bound and read, or written
	events           []string // JetStream publishes (acked)
	requests         []string // requests it sends to other services
	serves           []string // subjects it subscribes to
	pullsUsageEvents bool
}

var grants = []grant{
	{user: "registry",
		reads:    []string{contract.BucketServices, contract.BucketStatus, contract.BucketRoutes, contract.BucketKeys, contract.BucketCredentials},
		writes:   []string{contract.BucketServices, contract.BucketRoutes},
		events:   []string{contract.RegistryEvent("svc", contract.VerbRegistered)},
		requests: []string{contract.SubjCredentialPut, contract.SubjCredentialDelete, contract.SubjHealthProbe},
		serves:   []string{contract.SubjServicesRegister, contract.SubjServicesList, contract.SubjAliasesPut}},
	{user: "credential",
		reads: []string{contract.BucketCredentials}, writes: []string{contract.BucketCredentials},
		events: []string{contract.CredentialChanged("svc~1")},
		serves: []string{contract.SubjCredentialPut, contract.SubjCredentialDelete, contract.SubjCredentialResolve, contract.SubjCredentialsRotate}},
	{user: "healthcheck",
		reads:    []string{contract.BucketServices, contract.BucketStatus, contract.BucketHealthLease},
		writes:   []string{contract.BucketStatus, contract.BucketHealthLease},
		events:   []string{contract.HealthChanged("svc")},
		requests: []string{contract.SubjCredentialResolve},
		serves:   []string{contract.SubjHealthProbe}},
	{user: "router",
		reads:    []string{contract.BucketServices, contract.BucketStatus, contract.BucketRoutes, contract.BucketKeys},
		writes:   []string{contract.BucketKeys},
		events:   []string{contract.UsageRecorded("consumer")},
		requests: []string{contract.SubjCredentialResolve},
		serves:   []string{contract.SubjKeysCreate, contract.SubjKeysRevoke, contract.CredentialChanged("svc~1")}},
	{user: "metering",
		reads:  []string{contract.BucketUsage, contract.BucketUsageLedger},
		writes: []string{contract.BucketUsage, contract.BucketUsageLedger},
		events: []string{contract.RollupPublished("minute")},
		serves: []string{contract.SubjUsageQuery}, pullsUsageEvents: true},
}

func TestServiceUsersMayDoTheirJob(t *testing.T) {
	ns := startServer(t)
	admin := connectAs(t, ns, "admin", "switchyard-init")
	adminJS, _ := jetstream.New(admin.nc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := contract.EnsureTopology(ctx, adminJS, contract.DefaultOptions()); err != nil {
		t.Fatalf("admin (the init) cannot create the topology: %v", err)
	}
	for _, g := range grants {
		t.Run(g.user, func(t *testing.T) { checkGrant(ctx, t, ns, g) })
	}
}

func checkGrant(ctx context.Context, t *testing.T, ns *server.Server, g grant) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := connectAs(t, ns, g.user, g.user)
	js, _ := jetstream.New(c.nc)
	if err := runtime.TopologyExists(ctx, c.nc, js, contract.DefaultOptions()); err != nil {
		t.Errorf("bind-only start: %v", err)
	}
	for _, b := range g.reads {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Errorf("bind %s: %v", b, err)
			continue
		}
		if _, err := kv.Get(ctx, "absent"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("get from %s: %v", b, err)
		}
		if err := watchInitialValues(ctx, kv); err != nil {
			t.Errorf("watch %s: %v", b, err)
		}
	}
	for _, b := range g.writes {
		kv, err := js.KeyValue(ctx, b)
		if err == nil {
			_, err = kv.Put(ctx, "perm-test-"+g.user, []byte("x"))
		}
		if err != nil {
			t.Errorf("write %s: %v", b, err)
		}
	}
	for _, subject := range g.events {
		if _, err := js.Publish(ctx, subject, []byte("x")); err != nil {
			t.Errorf("JetStream publish %s: %v", subject, err)
		}
	}
	for _, subject := range g.requests {
		// Nobody serves it here: "no responders" proves the request left
		// and its reply path is allowed; a refused publish would time out.
		_, err := c.nc.Request(subject, []byte("{}"), 2*time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("request %s: %v, want no responders", subject, err)
		}
	}
	for _, subject := range g.serves {
		if c.subscribeRefused(t, subject) {
			t.Errorf("may not subscribe to %s", subject)
		}
	}
	if g.pullsUsageEvents {
		checkUsagePull(ctx, t, ns, js)
	}
}

// checkUsagePull: the router publishes a usage event, metering pulls and
// acks it through the durable consumer.
func checkUsagePull(ctx context.Context, t *testing.T, ns *server.Server, js jetstream.JetStream) {
	router := connectAs(t, ns, "router", "router")
	rjs, _ := jetstream.New(router.nc)
	if _, err := rjs.Publish(ctx, contract.UsageRecorded("c"), []byte("event"), jetstream.WithMsgID("req-1")); err != nil {
		t.Fatalf("router publish usage: %v", err)
	}
	cons, err := js.Consumer(ctx, contract.StreamUsage, contract.ConsumerMetering)
	if err != nil {
		t.Fatalf("metering bind consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second),
		jetstream.FetchPriorityGroup(contract.MeteringPriorityGroup))
	if err != nil {
		t.Fatalf("metering fetch: %v", err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if err := m.DoubleAck(ctx); err != nil {
			t.Errorf("metering ack: %v", err)
		}
	}
	if n != 1 {
		t.Errorf("metering fetched %d usage events, want 1 (fetch err %v)", n, batch.Error())
	}
}

// watchInitialValues watches kv until the end-of-initial-values marker,
// which needs an ordered consumer and its deliveries to this user's inbox.
func watchInitialValues(ctx context.Context, kv jetstream.KeyValue) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return nil
			}
		case <-timeout:
			return errors.New("no end-of-initial-values marker in 5s")
		}
	}
}
