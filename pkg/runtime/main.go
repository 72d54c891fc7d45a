package runtime

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/telemetry"
)

// Common is the configuration every Switchyard binary shares.
type Common struct {
	// MemoryLimit is the Go runtime's soft memory limit; 0 leaves Go's
	// default (or GOMEMLIMIT, which always wins). Set it before
	// RegisterFlags to give a binary its own default.
	MemoryLimit config.Bytes
	NATS        natsx.ConnConfig
	Log         telemetry.LogConfig
	Ops         OpsConfig
	Topology    contract.Options
}

// RegisterFlags adds the shared flags to fs.
func (c *Common) RegisterFlags(fs *flag.FlagSet, opsDefault string) {
	c.Topology = contract.DefaultOptions()
	fs.StringVar(&c.NATS.URL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated")
	fs.StringVar(&c.NATS.CredsFile, "nats-creds", "", "NATS credentials file (JWT + nkey) for this service's user")
	fs.StringVar(&c.NATS.User, "nats-user", "", "NATS user for this service (static users)")
	fs.StringVar(&c.NATS.Password, "nats-password", "", "NATS password for -nats-user")
	fs.StringVar(&c.Log.Level, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.Log.Format, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.Ops.Listen, "ops-listen", opsDefault, "address for /healthz, /readyz and /metrics (empty disables)")
	fs.DurationVar(&c.Ops.ShutdownGrace, "shutdown-grace", 30*time.Second, "time modules get to drain on SIGTERM")
	fs.Var(&c.MemoryLimit, "memory-limit", "soft memory limit of the Go runtime (e.g. 64MiB; 0: none); GOMEMLIMIT wins")
	fs.IntVar(&c.Topology.Replicas, "jetstream-replicas", 1, "replicas for streams and KV buckets (3 in a NATS cluster)")
	fs.Var(ensureTopologyFlag{&c.NATS}, "nats-ensure-topology",
		"create or update the JetStream streams and KV buckets at start (false: only bind, waiting until an admin-run init has created them)")
}

// ensureTopologyFlag is -nats-ensure-topology, the inverse of
// natsx.ConnConfig.BindOnly (so the zero ConnConfig keeps ensuring).
type ensureTopologyFlag struct{ c *natsx.ConnConfig }

func (f ensureTopologyFlag) IsBoolFlag() bool { return true }

func (f ensureTopologyFlag) String() string {
	return strconv.FormatBool(f.c == nil || !f.c.BindOnly)
}

func (f ensureTopologyFlag) Set(v string) error {
	ensure, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	f.c.BindOnly = !ensure
	return nil
}

// Main parses flags (and their SY_* environment variables), sets up logging
// and tracing, builds the module(s) and runs them until SIGINT/SIGTERM. It
// returns the process exit code.
func Main(name string, fs *flag.FlagSet, args []string, common *Common, build func(*slog.Logger) ([]Module, error)) int {
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := config.ApplyEnv(fs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log, err := telemetry.NewLogger(os.Stderr, common.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	slog.SetDefault(log)
	if common.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(common.MemoryLimit))
	}
	shutdownTracing := telemetry.SetupTracing(name)
	defer func() { _ = shutdownTracing(context.Background()) }()
	mods, err := build(log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, log, common.Ops, mods...); err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	return 0
}
