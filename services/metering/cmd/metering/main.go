// Command metering runs Switchyard's metering service on its own.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/metering/meteringapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg meteringapp.Config
	fs := flag.NewFlagSet(meteringapp.Name, flag.ExitOnError)
	common.RegisterFlags(fs, ":9105")
	cfg.RegisterFlags(fs, "")
	os.Exit(runtime.Main(meteringapp.Name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		cfg.NATS, cfg.Topology, cfg.Version = common.NATS, common.Topology, version
		cfg.NATS.Name = meteringapp.Name
		app, err := meteringapp.New(cfg, log)
		return []runtime.Module{app}, err
	}))
}
