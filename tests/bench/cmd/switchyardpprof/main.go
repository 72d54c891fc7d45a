// Command switchyardpprof is the all-in-one switchyard binary plus a
// net/http/pprof listener, for profiling the gateway under the benchmark's
// load without adding a profiling endpoint to the product. It runs the
// same gatewayapp code with the same flags; only -pprof-listen is new.
//
//	switchyardpprof -pprof-listen 127.0.0.1:16060 -outbound-allow=loopback ...
//	go tool pprof http://127.0.0.1:16060/debug/pprof/profile?seconds=10
package main

import (
	"flag"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // the point of this binary
	"os"
	goruntime "runtime"
	"time"

	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
)

func main() {
	var common runtime.Common
	var cfg gatewayapp.Config
	fs := flag.NewFlagSet("switchyardpprof", flag.ExitOnError)
	common.RegisterFlags(fs, "")
	cfg.RegisterFlags(fs)
	pprofListen := fs.String("pprof-listen", "127.0.0.1:6060", "net/http/pprof address")
	os.Exit(runtime.Main("switchyard", fs, os.Args[1:], &common, func(log *slog.Logger) ([]runtime.Module, error) {
		startPprof(*pprofListen, log)
		gw, err := gatewayapp.New(cfg, common, "0.0.0-pprof", log)
		if err != nil {
			return nil, err
		}
		return gw.Modules(), nil
	}))
}

// startPprof serves the default mux (where net/http/pprof registers) and
// samples lock contention, so /debug/pprof/mutex shows it.
func startPprof(addr string, log *slog.Logger) {
	goruntime.SetMutexProfileFraction(100)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Error("pprof listener", "err", err)
		}
	}()
}
