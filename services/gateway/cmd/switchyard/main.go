// Command switchyard is the all-in-one Switchyard gateway: an embedded
// NATS server with JetStream and every service (-target=all), or any
// subset of them.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
)

var version = "0.1.0-dev"

func main() {
	var common runtime.Common
	var cfg gatewayapp.Config
	fs := flag.NewFlagSet("switchyard", flag.ExitOnError)
	// The all-in-one holds ~20 MB live under load; a soft limit keeps GC
	// headroom (RSS) near 75 MB instead of ~90 (BENCHMARKS.md).
	common.MemoryLimit = 48 << 20
	common.RegisterFlags(fs, ":9100")
	cfg.RegisterFlags(fs)
	list := fs.Bool("list-targets", false, "print the targets and exit")
	os.Exit(runtime.Main("switchyard", fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		if *list {
			gatewayapp.ListTargets(os.Stdout)
			os.Exit(0)
		}
		gw, err := gatewayapp.New(cfg, common, version, log)
		if err != nil {
			return nil, err
		}
		return gw.Modules(), nil
	}))
}
