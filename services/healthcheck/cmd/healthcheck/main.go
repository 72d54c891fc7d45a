// Command healthcheck runs Switchyard's healthcheck service on its own.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/healthcheck/healthcheckapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg healthcheckapp.Config
	fs := flag.NewFlagSet(healthcheckapp.Name, flag.ExitOnError)
	common.RegisterFlags(fs, ":9103")
	cfg.RegisterFlags(fs, "")
	os.Exit(runtime.Main(healthcheckapp.Name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		cfg.NATS, cfg.Topology, cfg.Version = common.NATS, common.Topology, version
		cfg.NATS.Name = healthcheckapp.Name
		app, err := healthcheckapp.New(cfg, log)
		return []runtime.Module{app}, err
	}))
}
