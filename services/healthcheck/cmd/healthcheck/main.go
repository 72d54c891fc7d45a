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
	var cfg healthcheckapp.Config
	os.Exit(runtime.ServiceMain(healthcheckapp.Name, ":9103", version,
		func(fs *flag.FlagSet) { cfg.RegisterFlags(fs, "") },
		func(base runtime.Base, log *slog.Logger) (runtime.Module, error) {
			cfg.Base = base
			return healthcheckapp.New(cfg, log)
		}))
}
