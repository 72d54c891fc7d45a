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
	"github.com/nats-io/nats.go/jetstream"

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
	runtime.Base
	Refresh healthcheck.Config
	// ProbeTimeout bounds one probe.
	ProbeTimeout time.Duration
	// Outbound is the SSRF policy for probes.
	Outbound outbound.Policy
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
	if err := c.Base.Validate(Name); err != nil {
		return err
	}
	switch {
	case c.Refresh.Interval < time.Second:
		return errors.New("healthcheck: -refresh-interval must be at least 1s")
	case c.ProbeTimeout <= 0:
		return errors.New("healthcheck: -probe-timeout must be positive")
	}
	return nil
}

// New validates cfg and returns the healthcheck module.
func New(cfg Config, log *slog.Logger) (*runtime.Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.With("svc", Name)
	return runtime.NewService(Name, cfg.Base, log, func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, ready func()) error {
		st, err := store.Open(ctx, js)
		if err != nil {
			return err
		}
		prober := healthcheck.NewProber(nc, cfg.Outbound, cfg.ProbeTimeout)
		refresh := cfg.Refresh
		refresh.Owner = replicaName()
		svc := healthcheck.New(refresh, prober, st, js, log)
		// Asked before this replica serves, so only a peer can answer.
		cold := !healthcheck.PeersAlive(nc, peerPingWait)
		ms, err := healthchecktransport.Serve(nc, healthcheckendpoint.New(svc, log), cfg.Version, cfg.ProbeTimeout, log)
		if err != nil {
			return err
		}
		defer func() { _ = ms.Stop() }()
		return svc.Run(ctx, ready, cold)
	}), nil
}

// replicaName identifies this replica in the leases it holds.
func replicaName() string {
	host, _ := os.Hostname()
	return host + "/" + strings.TrimPrefix(nats.NewInbox(), nats.InboxPrefix)
}

// peerPingWait bounds the start-up question "is another replica running?".
const peerPingWait = 500 * time.Millisecond
