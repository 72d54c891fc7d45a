// Package meteringapp is the metering service's seam: Config, flags,
// validation, and the App run by the metering binary and the all-in-one
// switchyard binary.
package meteringapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	// PricesFile is the JSON cost table (see metering.LoadPrices); empty
	// means no spend is computed unless Prices is set.
	PricesFile string
	// Prices is the cost table itself, for embedding and tests; PricesFile
	// wins when both are set.
	Prices metering.Prices
}

// RegisterFlags adds metering's flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.PricesFile, prefix+"prices", "",
		`cost table: JSON {"<model>" or "<service>/<model>": {"input_per_1m": USD, "cached_input_per_1m": USD, "output_per_1m": USD}}`)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.NATS.URL == "" {
		return errors.New("metering: -nats-url is required")
	}
	if c.PricesFile != "" {
		p, err := metering.LoadPrices(c.PricesFile)
		if err != nil {
			return fmt.Errorf("metering: -prices: %w", err)
		}
		c.Prices = p
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
	if len(cfg.Prices) == 0 {
		log.Info("metering: no cost table; usage shows no spend (see -prices)")
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
	consumer := metering.NewConsumer(js, st, a.cfg.Prices, a.log)
	ms, err := meteringtransport.Serve(nc, meteringendpoint.New(metering.NewQuery(st), a.log), a.cfg.Version, a.log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	return consumer.Run(ctx, func() { a.Set(nil) })
}
