// Package registryapp is the registry service's seam: Config, flags,
// validation, and the App run by the registry binary and the all-in-one
// switchyard binary.
package registryapp

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/registry/declarative"
	"github.com/switchyard/switchyard/services/registry/internal/registry"
	"github.com/switchyard/switchyard/services/registry/internal/registryendpoint"
	"github.com/switchyard/switchyard/services/registry/internal/registrytransport"
	"github.com/switchyard/switchyard/services/registry/internal/store"
)

// Name is the target name.
const Name = "registry"

// Config configures the registry.
type Config struct {
	runtime.Base
	// ConfigFile is a declarative config (TOML) applied at start and
	// re-applied whenever it changes; "" disables it.
	ConfigFile string
	// ConfigPollInterval is how often ConfigFile is read for changes.
	ConfigPollInterval time.Duration
}

// RegisterFlags adds the registry's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.ConfigFile, prefix+"config-file", "",
		"declarative config (TOML: services, credentials, model aliases) applied at start and on every change; see docs/declarative-config.md")
	fs.DurationVar(&c.ConfigPollInterval, prefix+"config-poll-interval", time.Second, "how often -config-file is read for changes")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := c.Base.Validate(Name); err != nil {
		return err
	}
	if c.ConfigFile != "" {
		// Refuse a broken file at start rather than run without it; later
		// edits that break it are logged and the last good state kept.
		if _, err := declarative.Load(c.ConfigFile); err != nil {
			return fmt.Errorf("registry: -config-file: %w", err)
		}
	}
	return nil
}

// New validates cfg and returns the registry module.
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
		svc := registry.New(st, nc, js, log)
		ms, err := registrytransport.Serve(nc, registryendpoint.New(svc, log), cfg.Version, log)
		if err != nil {
			return err
		}
		defer func() { _ = ms.Stop() }()
		if cfg.ConfigFile != "" {
			r := &declarative.Reloader{Path: cfg.ConfigFile, Interval: cfg.ConfigPollInterval, Log: log.With("config", cfg.ConfigFile),
				Planner: &declarative.Planner{API: registry.ConfigAPI{Svc: svc, Store: st}}}
			go r.Run(ctx)
		}
		ready()
		<-ctx.Done()
		return nil
	}), nil
}
