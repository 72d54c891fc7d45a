// Package healthcheckapp is the healthcheck service's seam: Config, flags,
// validation, and the App run by the healthcheck binary and the all-in-one
// switchyard binary.
package healthcheckapp

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/healthcheck/internal/healthcheck"
	"github.com/switchyard/switchyard/services/healthcheck/internal/healthcheckendpoint"
	"github.com/switchyard/switchyard/services/healthcheck/internal/healthchecktransport"
	"github.com/switchyard/switchyard/services/healthcheck/internal/store"
)

// Name is the target name.
const Name = "healthcheck"

// Config configures the healthcheck service.
type Config struct {
	NATS     natsx.ConnConfig
	Topology contract.Options
	Refresh  healthcheck.Config
	// ProbeTimeout bounds one probe.
	ProbeTimeout time.Duration
	// Outbound is the SSRF policy for probes.
	Outbound outbound.Policy
	Version  string
}

// RegisterFlags adds the service's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.DurationVar(&c.Refresh.Interval, prefix+"refresh-interval", 5*time.Minute, "time between background probe rounds")
	fs.DurationVar(&c.Refresh.Jitter, prefix+"refresh-jitter", 30*time.Second, "probes of a round are spread over this")
	fs.IntVar(&c.Refresh.Concurrency, prefix+"probe-concurrency", 8, "probes in flight at once")
	fs.DurationVar(&c.ProbeTimeout, prefix+"probe-timeout", 10*time.Second, "time limit of one probe")
	fs.Var(&c.Outbound, prefix+"outbound-allow", "outbound SSRF policy: loopback, private and/or CIDRs allowed (e.g. 10.0.0.0/8,loopback)")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.NATS.URL == "":
		return errors.New("healthcheck: -nats-url is required")
	case c.Refresh.Interval < time.Second:
		return errors.New("healthcheck: -refresh-interval must be at least 1s")
	case c.ProbeTimeout <= 0:
		return errors.New("healthcheck: -probe-timeout must be positive")
	}
	return nil
}

// App is a running healthcheck service.
type App struct {
	cfg Config
	log *slog.Logger
	runtime.Readiness
}

// New validates cfg.
func New(cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &App{cfg: cfg, log: log.With("svc", Name)}, nil
}

// Name implements runtime.Module.
func (a *App) Name() string { return Name }

// Run serves and refreshes statuses until ctx ends.
func (a *App) Run(ctx context.Context) error {
	nc, js, err := runtime.ConnectNATS(ctx, a.cfg.NATS, a.cfg.Topology, a.log)
	if err != nil {
		return err
	}
	defer runtime.CloseNATS(nc)
	st, err := store.Open(ctx, js)
	if err != nil {
		return err
	}
	prober := healthcheck.NewProber(nc, a.cfg.Outbound, a.cfg.ProbeTimeout)
	refresh := a.cfg.Refresh
	refresh.Owner = replicaName()
	svc := healthcheck.New(refresh, prober, st, js, a.log)
	// Asked before this replica serves, so only a peer can answer.
	cold := !healthcheck.PeersAlive(nc, peerPingWait)
	ms, err := healthchecktransport.Serve(nc, healthcheckendpoint.New(svc, a.log), a.cfg.Version, a.cfg.ProbeTimeout, a.log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	return svc.Run(ctx, func() { a.Set(nil) }, cold)
}

// replicaName identifies this replica in the leases it holds.
func replicaName() string {
	host, _ := os.Hostname()
	return host + "/" + strings.TrimPrefix(nats.NewInbox(), nats.InboxPrefix)
}

// peerPingWait bounds the start-up question "is another replica running?".
const peerPingWait = 500 * time.Millisecond
