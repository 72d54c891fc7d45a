// Command router runs Switchyard's edge router on its own.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/router/routerapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg routerapp.Config
	fs := flag.NewFlagSet(routerapp.Name, flag.ExitOnError)
	common.RegisterFlags(fs, ":9104")
	cfg.RegisterFlags(fs, "")
	os.Exit(runtime.Main(routerapp.Name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		cfg.NATS, cfg.Topology, cfg.Version = common.NATS, common.Topology, version
		cfg.NATS.Name = routerapp.Name
		app, err := routerapp.New(cfg, log)
		return []runtime.Module{app}, err
	}))
}
