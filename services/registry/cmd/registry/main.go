// Command registry runs Switchyard's registry service on its own.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/registry/registryapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg registryapp.Config
	fs := flag.NewFlagSet(registryapp.Name, flag.ExitOnError)
	common.RegisterFlags(fs, ":9101")
	cfg.RegisterFlags(fs, "")
	os.Exit(runtime.Main(registryapp.Name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		cfg.NATS, cfg.Topology, cfg.Version = common.NATS, common.Topology, version
		cfg.NATS.Name = registryapp.Name
		app, err := registryapp.New(cfg, log)
		return []runtime.Module{app}, err
	}))
}
