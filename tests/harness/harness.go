// Package harness starts Switchyard for tests on real, in-process parts: a
// JetStream-enabled nats-server and the services, either as the all-in-one
// gateway (-target=all with its embedded NATS) or as separately started
// services, each with its own NATS connection, against a shared test
// server. The same test body runs against both.
package harness

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
)

// Mode selects how the services run.
type Mode string

// The modes.
const (
	AllInOne Mode = "all-in-one"
	Split    Mode = "split"
)

// Modes lists both, for table-driven tests.
var Modes = []Mode{AllInOne, Split}

// Gateway is a running Switchyard under test.
type Gateway struct {
	// EdgeURL is the router's base URL, e.g. http://127.0.0.1:34567.
	EdgeURL string
	// NATSURL is where syctl and test clients connect.
	NATSURL string
	// NC is a test connection to the gateway's NATS.
	NC *nats.Conn
	JS jetstream.JetStream

	router *gatewayapp.Gateway
}

// Options adjust the gateway.
type Options struct {
	// Configure may change the all-in-one config before start.
	Configure func(*gatewayapp.Config)
	// Auth turns consumer key authentication on. The product's default is
	// on; the harness defaults to off so tests that are not about keys need
	// not mint one. Tests about keys, access and limits set it.
	Auth bool
}

// Config is the configuration Start runs a gateway with: every flag's
// default, then a private data dir, ports the kernel picks, loopback
// upstreams allowed, background health probes hourly, consumer keys as
// opts.Auth says, and opts.Configure last. Tests that start gateways of
// their own (a second router, a restart on the same data dir) begin here.
func Config(t testing.TB, opts Options) (gatewayapp.Config, runtime.Common) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var common runtime.Common
	var cfg gatewayapp.Config
	common.RegisterFlags(fs, "")
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.NATSListen = "127.0.0.1:-1"
	cfg.Router.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Refresh.Interval = time.Hour
	setAuth(t, &cfg, opts.Auth)
	allowLoopback(t, &cfg)
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	return cfg, common
}

// Start runs a gateway in mode and stops it when the test ends.
func Start(t testing.TB, mode Mode, opts Options) *Gateway {
	t.Helper()
	cfg, common := Config(t, opts)
	log := testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mods []runtime.Module
	var router *gatewayapp.Gateway
	switch mode {
	case AllInOne:
		gw, err := gatewayapp.New(cfg, common, "0.0.0-test", log)
		if err != nil {
			t.Fatal(err)
		}
		router, mods = gw, gw.Modules()
		common.NATS.URL = gw.NATSURL()
	case Split:
		ns := natsx.StartTestServer(t)
		common.NATS.URL = ns.ClientURL()
		cfg.EmbedNATS = false
		router, mods = startSplit(t, cfg, common, log)
	}
	var wg sync.WaitGroup
	wg.Go(func() { runSplitOrAll(ctx, log, mode, mods) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	g := &Gateway{NATSURL: common.NATS.URL, router: router}
	g.EdgeURL = edgeURL(t, router)
	waitReady(t, mods)
	nc, err := natsx.Connect(natsx.ConnConfig{URL: g.NATSURL, Name: "test-client"}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	g.NC = nc
	if g.JS, err = jetstream.New(g.NC); err != nil {
		t.Fatal(err)
	}
	return g
}

// startSplit builds each service as its own gateway with one target, so
// every service has its own NATS connection and its own module set, as
// separate processes would.
func startSplit(t testing.TB, cfg gatewayapp.Config, common runtime.Common, log *slog.Logger) (*gatewayapp.Gateway, []runtime.Module) {
	var mods []runtime.Module
	var router *gatewayapp.Gateway
	for _, target := range gatewayapp.AllTargets() {
		c := cfg
		c.Targets = []string{target}
		gw, err := gatewayapp.New(c, common, "0.0.0-test", log.With("process", target))
		if err != nil {
			t.Fatal(err)
		}
		if target == gatewayapp.TargetRouter {
			router = gw
		}
		mods = append(mods, gw.Modules()...)
	}
	return router, mods
}

// runSplitOrAll runs the modules: together in all-in-one mode, each in its
// own runtime.Run (as its own process would) in split mode.
func runSplitOrAll(ctx context.Context, log *slog.Logger, mode Mode, mods []runtime.Module) {
	if mode == AllInOne {
		_ = runtime.Run(ctx, log, runtime.OpsConfig{}, mods...)
		return
	}
	var wg sync.WaitGroup
	for _, m := range mods {
		wg.Go(func() { _ = runtime.Run(ctx, log, runtime.OpsConfig{}, m) })
	}
	wg.Wait()
}

func edgeURL(t testing.TB, gw *gatewayapp.Gateway) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := gw.Router.Addr(ctx)
	if err != nil {
		t.Fatalf("router did not listen: %v", err)
	}
	return "http://" + addr
}

func waitReady(t testing.TB, mods []runtime.Module) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := runtime.ReadyCheck(mods)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setAuth sets the router's -auth flag value (its type is internal to the
// router module, so it is set as the flag would set it).
func setAuth(t testing.TB, cfg *gatewayapp.Config, on bool) {
	mode := "off"
	if on {
		mode = "on"
	}
	if err := cfg.Router.Keys.Auth.Set(mode); err != nil {
		t.Fatal(err)
	}
}

func allowLoopback(t testing.TB, cfg *gatewayapp.Config) {
	p, err := outbound.ParsePolicy("loopback")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Router.Outbound, cfg.Healthcheck.Outbound = p, p
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Eventually polls cond every 10 ms until it holds or within elapses, and
// returns how long it took.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// KeyCount counts the live keys of a KV bucket.
func (g *Gateway) KeyCount(t testing.TB, bucket string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := g.JS.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// UsageEventsPublished is how many usage events the gateway's router has
// had acknowledged by JetStream: events, not stream messages, so it holds
// with usage batching (the default) too. It first waits (up to 10 s) until
// the router has no event pending, so a batch still lingering is counted
// in the snapshot it belongs to.
func (g *Gateway) UsageEventsPublished(t testing.TB) uint64 {
	t.Helper()
	var published int64
	Eventually(t, 10*time.Second, "usage events published", func() bool {
		var pending int64
		published, pending = g.router.Router.UsageEvents()
		return pending == 0
	})
	return uint64(published)
}

// UsageMessagesPublished is the usage stream's last sequence: how many
// JetStream messages (single events or batches) were ever accepted.
func (g *Gateway) UsageMessagesPublished(t testing.TB) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := g.JS.Stream(ctx, contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// HTTPClient is a plain client for edge calls.
var HTTPClient = &http.Client{Timeout: 30 * time.Second}
