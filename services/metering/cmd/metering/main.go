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
	var cfg meteringapp.Config
	os.Exit(runtime.ServiceMain(meteringapp.Name, ":9105", version,
		func(fs *flag.FlagSet) { cfg.RegisterFlags(fs, "") },
		func(base runtime.Base, log *slog.Logger) (runtime.Module, error) {
			cfg.Base = base
			return meteringapp.New(cfg, log)
		}))
}
