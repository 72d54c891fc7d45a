// Package registryapp is the registry service's seam: Config, flags,
// validation, and the App run by the registry binary and the all-in-one
// switchyard binary.
package registryapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
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
	NATS     natsx.ConnConfig
	Topology contract.Options
	// ConfigFile is a declarative config (TOML) applied at start and
	// re-applied whenever it changes; "" disables it.
	ConfigFile string
	// ConfigPollInterval is how often ConfigFile is read for changes.
	ConfigPollInterval time.Duration
	Version            string
}

// RegisterFlags adds the registry's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.ConfigFile, prefix+"config-file", "",
		"declarative config (TOML: services, credentials, model aliases) applied at start and on every change; see docs/declarative-config.md")
	fs.DurationVar(&c.ConfigPollInterval, prefix+"config-poll-interval", time.Second, "how often -config-file is read for changes")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.NATS.URL == "" {
		return errors.New("registry: -nats-url is required")
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

// App is a running registry.
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

// Run serves until ctx ends.
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
	svc := registry.New(st, nc, js, a.log)
	ms, err := registrytransport.Serve(nc, registryendpoint.New(svc, a.log), a.cfg.Version, a.log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	if a.cfg.ConfigFile != "" {
		r := &declarative.Reloader{Path: a.cfg.ConfigFile, Interval: a.cfg.ConfigPollInterval, Log: a.log.With("config", a.cfg.ConfigFile),
			Planner: &declarative.Planner{API: registry.ConfigAPI{Svc: svc, Store: st}}}
		go r.Run(ctx)
	}
	a.Set(nil)
	<-ctx.Done()
	return nil
}
