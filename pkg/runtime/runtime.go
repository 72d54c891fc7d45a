// Package runtime runs Switchyard modules: the services of a split
// deployment one per process, or any set of them in the all-in-one binary.
// It owns the ops listener (/healthz, /readyz reflecting every module,
// /metrics), runs the modules until the context ends or one fails, and
// shuts everything down in order.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Module is one runnable part of Switchyard (a service, or the embedded
// NATS server).
type Module interface {
	// Name is the target name used by -target.
	Name() string
	// Run blocks until ctx ends (nil error) or the module fails.
	Run(ctx context.Context) error
	// Ready reports nil once the module can do its job.
	Ready() error
}

// OpsConfig configures the ops listener.
type OpsConfig struct {
	// Listen address for /healthz, /readyz and /metrics; empty disables it.
	Listen string
	// ShutdownGrace bounds how long modules get to drain on shutdown.
	ShutdownGrace time.Duration
}

// Run starts the ops listener and every module, and returns when ctx ends,
// a module fails (the first failure cancels the others) or every module
// has returned.
func Run(ctx context.Context, log *slog.Logger, ops OpsConfig, mods ...Module) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var stopOps func()
	if ops.Listen != "" {
		var err error
		if stopOps, err = serveOps(log, ops.Listen, mods); err != nil {
			return err
		}
		defer stopOps()
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(mods))
	for _, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("%s: %w", m.Name(), err)
				errs <- err
				cancel(err)
			}
		}()
	}
	allReturned := make(chan struct{})
	go func() { wg.Wait(); close(allReturned) }()
	// One-shot modules (switchyard -target=init) return by themselves:
	// once every module has, there is nothing left to run.
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
	case <-allReturned:
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// ReadyCheck reports the first module that is not ready.
func ReadyCheck(mods []Module) error {
	for _, m := range mods {
		if err := m.Ready(); err != nil {
			return fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	return nil
}

func serveOps(log *slog.Logger, addr string, mods []Module) (func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ReadyCheck(mods); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ops listener on %s: %w (use -ops-listen to pick another address)", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops listener failed", "err", err)
		}
	}()
	log.Info("ops listener up", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
