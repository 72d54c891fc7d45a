// Package routerapp is the router's seam: Config, flags, validation, and
// the App that the router binary and the all-in-one switchyard binary run.
// The App owns the edge HTTP listener, the route cache and its KV watches,
// consumer key authentication, the rate limiter and the usage publisher.
// The edge listens at once and answers 503 until the route cache is ready.
package routerapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/router/internal/edge"
	"github.com/switchyard/switchyard/services/router/internal/health"
	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/usage"
)

// Name is the target name.
const Name = "router"

// Config configures the router.
type Config struct {
	NATS     natsx.ConnConfig
	Topology contract.Options
	// Listen is the edge address.
	Listen   string
	Edge     edge.Config
	Usage    usage.Config
	Circuits health.Config // passive health: circuit breaker per service
	Keys     keys.Config   // consumer key authentication
	Limits   LimitsConfig  // rate-limit backend
	Outbound outbound.Policy
	Version  string
}

// RegisterFlags adds the router's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	c.Edge = edge.DefaultConfig()
	c.Keys = keys.DefaultConfig()
	fs.Var(&c.Keys.Auth, prefix+"auth", "consumer key authentication: on, or off (local experiments only; logs a warning)")
	fs.StringVar(&c.Listen, prefix+"listen", ":8080", "edge HTTP address (OpenAI-compatible API)")
	fs.Int64Var(&c.Edge.MaxBodyBytes, prefix+"max-body-bytes", c.Edge.MaxBodyBytes, "largest request body")
	fs.DurationVar(&c.Edge.FirstByteTimeout, prefix+"first-byte-timeout", c.Edge.FirstByteTimeout, "wait for upstream response headers")
	fs.DurationVar(&c.Edge.StreamIdleTimeout, prefix+"stream-idle-timeout", c.Edge.StreamIdleTimeout, "longest silence between upstream stream events")
	fs.DurationVar(&c.Edge.TotalTimeout, prefix+"total-timeout", c.Edge.TotalTimeout, "longest a request may take")
	fs.DurationVar(&c.Edge.WriteTimeout, prefix+"write-timeout", c.Edge.WriteTimeout, "per-write deadline to clients")
	fs.DurationVar(&c.Edge.BodyReadTimeout, prefix+"body-read-timeout", c.Edge.BodyReadTimeout, "longest a client may take to send the request body (408 after)")
	fs.IntVar(&c.Edge.MaxHeaderBytes, prefix+"max-header-bytes", c.Edge.MaxHeaderBytes, "largest request header block (431 above it)")
	fs.Float64Var(&c.Edge.Retry.Ratio, prefix+"retry-budget", c.Edge.Retry.Ratio, "fallback attempts allowed per client request over 10s, as a share (0.2: 20% extra upstream calls at most)")
	fs.IntVar(&c.Edge.Retry.MaxAttempts, prefix+"max-attempts", c.Edge.Retry.MaxAttempts, "upstream attempts per client request, the first included")
	c.Usage.RegisterFlags(fs, prefix)
	c.Limits.registerFlags(fs, prefix)
	fs.Var(&c.Outbound, prefix+outbound.FlagName, "outbound SSRF policy: loopback, private and/or CIDRs allowed")
	fs.IntVar(&c.Circuits.FailureThreshold, prefix+"circuit-failures", 5, "consecutive upstream failures that open a service's circuit")
	fs.DurationVar(&c.Circuits.CoolDown, prefix+"circuit-cooldown", 30*time.Second, "how long an open circuit waits before letting one request test the upstream")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.NATS.URL == "":
		return errors.New("router: -nats-url is required")
	case c.Listen == "":
		return errors.New("router: -listen is required")
	case c.Edge.MaxBodyBytes <= 0:
		return errors.New("router: -max-body-bytes must be positive")
	case c.Edge.MaxHeaderBytes <= 0:
		return errors.New("router: -max-header-bytes must be positive")
	case c.Edge.Retry.Ratio < 0 || c.Edge.Retry.MaxAttempts < 1:
		return errors.New("router: -retry-budget must be at least 0 and -max-attempts at least 1")
	}
	return c.Limits.validate()
}

// App is a running router.
type App struct {
	cfg   Config
	log   *slog.Logger
	addr  chan string
	ready runtime.Readiness
	// auth authenticates edge requests from the sy_keys snapshot.
	auth *keys.Authenticator
	// usage is the running usage publisher, for UsageEvents.
	usage atomic.Pointer[usage.Publisher]
}

// UsageEvents reports this router's usage events since it started:
// published is how many JetStream acknowledged (events, not messages: a
// batch of N counts N), pending how many were accepted and are not
// published yet. Both are zero before Run has started the publisher.
func (a *App) UsageEvents() (published, pending int64) {
	if p := a.usage.Load(); p != nil {
		s := p.Stats()
		return s.Published, s.Queued
	}
	return 0, 0
}

// New validates cfg.
func New(cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &App{cfg: cfg, log: log.With("svc", Name), addr: make(chan string, 1)}, nil
}

// Name implements runtime.Module.
func (a *App) Name() string { return Name }

// Ready reports ready once the route cache holds the KV's initial values.
func (a *App) Ready() error { return a.ready.Ready() }

// Addr returns the edge's bound address once it listens (useful with :0).
func (a *App) Addr(ctx context.Context) (string, error) {
	select {
	case addr := <-a.addr:
		a.addr <- addr
		return addr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Run serves the edge until ctx ends, then drains it.
func (a *App) Run(ctx context.Context) error {
	nc, js, err := runtime.ConnectNATS(ctx, a.cfg.NATS, a.cfg.Topology, a.log)
	if err != nil {
		return err
	}
	defer runtime.CloseNATS(nc)
	auth, keysErr, stopKeys, err := a.startKeys(ctx, nc, js)
	if err != nil {
		return err
	}
	defer stopKeys()
	a.auth = auth
	var cache routes.Cache
	clients := routes.Clients{
		Secure:   outbound.NewForwarder(a.cfg.Outbound, outbound.Options{Logger: a.log}),
		Insecure: outbound.NewForwarder(a.cfg.Outbound, outbound.Options{InsecureSkipVerify: true, Logger: a.log}),
	}
	pub, err := usage.New(a.cfg.Usage, js, a.log)
	if err != nil {
		return err
	}
	a.usage.Store(pub)
	limiter, backend, closeLimiter, err := newLimiter(a.cfg.Limits, a.log)
	if err != nil {
		return err
	}
	defer closeLimiter()
	watcher := routes.NewWatcher(&cache, nc, js, clients, a.log)
	edgeCfg := a.cfg.Edge
	edgeCfg.Circuits = health.New(a.cfg.Circuits) // per replica: see package health
	edgeCfg.Auth, edgeCfg.Limiter, edgeCfg.LimiterBackend = auth, limiter, backend
	srv := edge.New(edgeCfg, &cache, pub, a.log).HTTPServer(a.cfg.Listen)
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("edge listener on %s: %w (use -listen to pick another address)", a.cfg.Listen, err)
	}
	a.addr <- ln.Addr().String()
	a.log.Info("edge listening", "addr", ln.Addr().String())

	var wg sync.WaitGroup
	pubCtx, stopPub := context.WithCancel(context.Background())
	wg.Go(func() { pub.Run(pubCtx) })
	watchErr := make(chan error, 1)
	go func() { watchErr <- watcher.Run(ctx, func() { a.ready.Set(nil) }) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-watchErr:
	case err = <-keysErr:
	case err = <-serveErr:
	}
	a.ready.Set(errors.New("shutting down"))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx) // finish in-flight requests, so their usage is queued
	stopPub()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
