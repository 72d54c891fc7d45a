// Package meteringapp is the metering service's seam: Config, flags,
// validation, and the App run by the metering binary and the all-in-one
// switchyard binary.
package meteringapp

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	runtime.Base
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
	if err := c.Base.Validate(Name); err != nil {
		return err
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

// New validates cfg and returns the metering module.
func New(cfg Config, log *slog.Logger) (*runtime.Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Prices) == 0 {
		log.Info("metering: no cost table; usage shows no spend (see -prices)")
	}
	log = log.With("svc", Name)
	return runtime.NewService(Name, cfg.Base, log, func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, ready func()) error {
		st, err := store.Open(ctx, js)
		if err != nil {
			return err
		}
		consumer := metering.NewConsumer(js, st, cfg.Prices, log)
		ms, err := meteringtransport.Serve(nc, meteringendpoint.New(metering.NewQuery(st), log), cfg.Version, log)
		if err != nil {
			return err
		}
		defer func() { _ = ms.Stop() }()
		return consumer.Run(ctx, ready)
	}), nil
}

// LedgerIDs reads metering's whole ledger: every request id counted within
// the ledger's TTL and the usage-stream sequence that counted it. It reads
// the bucket from the start, so it is for tests and audits.
func LedgerIDs(ctx context.Context, js jetstream.JetStream) (map[string]uint64, error) {
	return store.LedgerIDs(ctx, js)
}
