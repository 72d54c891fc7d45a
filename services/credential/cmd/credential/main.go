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
	var cfg credentialapp.Config
	os.Exit(runtime.ServiceMain(credentialapp.Name, ":9102", version,
		func(fs *flag.FlagSet) { cfg.RegisterFlags(fs, "") },
		func(base runtime.Base, log *slog.Logger) (runtime.Module, error) {
			cfg.Base = base
			return credentialapp.New(cfg, log)
		}))
}
