// Command credential runs Switchyard's credential service on its own.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/credential/credentialapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg credentialapp.Config
	fs := flag.NewFlagSet(credentialapp.Name, flag.ExitOnError)
	common.RegisterFlags(fs, ":9102")
	cfg.RegisterFlags(fs, "")
	os.Exit(runtime.Main(credentialapp.Name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		cfg.NATS, cfg.Topology, cfg.Version = common.NATS, common.Topology, version
		cfg.NATS.Name = credentialapp.Name
		app, err := credentialapp.New(cfg, log)
		return []runtime.Module{app}, err
	}))
}
