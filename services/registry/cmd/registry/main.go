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
	var cfg registryapp.Config
	os.Exit(runtime.ServiceMain(registryapp.Name, ":9101", version,
		func(fs *flag.FlagSet) { cfg.RegisterFlags(fs, "") },
		func(base runtime.Base, log *slog.Logger) (runtime.Module, error) {
			cfg.Base = base
			return registryapp.New(cfg, log)
		}))
}
