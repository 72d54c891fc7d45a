// Package meteringapp is the registry service's seam: Config, flags,
// validation, and the App run by the metering binary and the all-in-one
// switchyard binary.
package meteringapp

import (
	"context"
	"errors"
	"flag"
	"log/slog"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/metering/internal/metering"
	"github.com/switchyard/switchyard/services/metering/internal/meteringendpoint"
	"github.com/switchyard/switchyard/services/metering/internal/meteringtransport"
	"github.com/switchyard/switchyard/services/metering/internal/store"
)

// Name is the target name.
const Name = "metering"

// Config configures metering.
type Config struct {
	NATS     natsx.ConnConfig
	Topology contract.Options
	Version  string
}

// RegisterFlags adds metering's flags with the given prefix. It has
// none of its own yet; the method keeps every app's seam the same.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.NATS.URL == "" {
		return errors.New("metering: -nats-url is required")
	}
	return nil
}

// App is a running metering service.
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
	consumer := metering.NewConsumer(js, st, a.log)
	ms, err := meteringtransport.Serve(nc, meteringendpoint.New(metering.NewQuery(st), a.log), a.cfg.Version, a.log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	return consumer.Run(ctx, func() { a.Set(nil) })
}
