package gatewayapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/credential/credentialapp"
	"github.com/switchyard/switchyard/services/healthcheck/healthcheckapp"
	"github.com/switchyard/switchyard/services/metering/meteringapp"
	"github.com/switchyard/switchyard/services/registry/registryapp"
	"github.com/switchyard/switchyard/services/router/routerapp"
)

// Config configures the all-in-one binary.
type Config struct {
	Targets config.StringList
	// EmbedNATS runs nats-server in-process; off, -nats-url is used.
	EmbedNATS  bool
	NATSListen string
	DataDir    string
	// NATSSyncAlways fsyncs every embedded JetStream write (off: the server's periodic sync; see BENCHMARKS.md).
	NATSSyncAlways bool

	Registry    registryapp.Config
	Credential  credentialapp.Config
	Healthcheck healthcheckapp.Config
	Router      routerapp.Config
	Metering    meteringapp.Config
}

// RegisterFlags adds every target's flags, prefixed with "<target>.".
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(&c.Targets, "target", "targets to run: all, or a comma list (see -list-targets)")
	fs.BoolVar(&c.EmbedNATS, "nats-embedded", true, "run an embedded NATS server with JetStream (off: connect to -nats-url; -target=init never embeds)")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "embedded NATS client address (syctl and nats connect here)")
	fs.StringVar(&c.DataDir, "data-dir", "./data", "embedded JetStream store and the development master key")
	fs.BoolVar(&c.NATSSyncAlways, "nats-sync-always", true, "embedded NATS: fsync every JetStream write (off: fsync every 2 min; a power loss may lose the last writes, including usage counts)")
	c.Registry.RegisterFlags(fs, "registry.")
	c.Credential.RegisterFlags(fs, "credential.")
	c.Healthcheck.RegisterFlags(fs, "healthcheck.")
	c.Router.RegisterFlags(fs, "router.")
	c.Metering.RegisterFlags(fs, "metering.")
	fs.Var(outboundBoth{c}, "outbound-allow",
		"outbound SSRF allowances for probes and forwarding: loopback, private and/or CIDRs (e.g. loopback to reach a local vLLM)")
}

// outboundBoth sets the healthcheck's and router's outbound policy at once.
type outboundBoth struct{ c *Config }

func (o outboundBoth) String() string {
	if o.c == nil {
		return ""
	}
	return o.c.Router.Outbound.String()
}

func (o outboundBoth) Set(v string) error {
	if err := o.c.Router.Outbound.Set(v); err != nil {
		return err
	}
	return o.c.Healthcheck.Outbound.Set(v)
}

// Gateway is the set of modules the binary runs.
type Gateway struct {
	modules []runtime.Module
	nats    *server.Server
	Router  *routerapp.App
}

// New builds the selected targets over common and, unless disabled, starts
// the embedded NATS server so its address is known to every target.
func New(cfg Config, common runtime.Common, version string, log *slog.Logger) (*Gateway, error) {
	targets, err := ParseTargets(cfg.Targets)
	if err != nil {
		return nil, err
	}
	g := &Gateway{}
	if cfg.EmbedNATS && !onlyInit(targets) {
		if g.nats, err = startNATS(cfg, log); err != nil {
			return nil, err
		}
		common.NATS.URL = g.nats.ClientURL()
	}
	if err := g.build(cfg, common, version, targets, log); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func startNATS(cfg Config, log *slog.Logger) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, fmt.Errorf("-nats-listen %q: %w", cfg.NATSListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("-nats-listen %q: bad port", cfg.NATSListen)
	}
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		Host: host, Port: port, StoreDir: filepath.Join(cfg.DataDir, "jetstream"), ServerName: "switchyard",
		SyncAlways: cfg.NATSSyncAlways,
	})
	if err != nil {
		return nil, err
	}
	log.Info("embedded NATS with JetStream", "url", ns.ClientURL(), "store", filepath.Join(cfg.DataDir, "jetstream"))
	return ns, nil
}

func (g *Gateway) build(cfg Config, common runtime.Common, version string, targets []string, log *slog.Logger) error {
	conn := func(target string) natsx.ConnConfig {
		c := common.NATS
		c.Name = "switchyard-" + target
		return c
	}
	for _, t := range targets {
		m, err := g.buildTarget(t, cfg, common, conn(t), version, log)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		g.modules = append(g.modules, m)
	}
	return nil
}

func (g *Gateway) buildTarget(t string, cfg Config, common runtime.Common, nc natsx.ConnConfig, version string, log *slog.Logger) (runtime.Module, error) {
	base := runtime.Base{NATS: nc, Topology: common.Topology, Version: version}
	switch t {
	case TargetInit:
		return newInit(nc, common.Topology, log), nil
	case TargetRegistry:
		c := cfg.Registry
		c.Base = base
		return registryapp.New(c, log)
	case TargetCredential:
		c := cfg.Credential
		c.Base = base
		if err := devMasterKey(&c, cfg.DataDir, log); err != nil {
			return nil, err
		}
		return credentialapp.New(c, log)
	case TargetHealthcheck:
		c := cfg.Healthcheck
		c.Base = base
		return healthcheckapp.New(c, log)
	case TargetMetering:
		c := cfg.Metering
		c.Base = base
		return meteringapp.New(c, log)
	case TargetRouter:
		c := cfg.Router
		c.NATS, c.Topology, c.Version = base.NATS, base.Topology, base.Version
		app, err := routerapp.New(c, log)
		g.Router = app
		return app, err
	}
	return nil, fmt.Errorf("unknown target %q", t)
}

// devMasterKey gives a laptop run a master key without setup: when none is
// configured it uses <data-dir>/master.keys, creating it once. Production
// deployments configure their own (see docs/credentials.md).
func devMasterKey(c *credentialapp.Config, dataDir string, log *slog.Logger) error {
	if c.MasterKeysFile != "" || os.Getenv(credentialapp.EnvMasterKeys) != "" {
		return nil
	}
	path := filepath.Join(dataDir, "master.keys")
	c.MasterKeysFile = path
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	entry, err := credentialapp.GenerateMasterKey("dev1")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte("# development master key, generated by switchyard\n"+entry.Reveal()+"\n"), 0o600); err != nil {
		return fmt.Errorf("write development master key: %w", err)
	}
	log.Warn("generated a development master key; keep it with the data dir or provider keys cannot be decrypted",
		"path", path)
	return nil
}

// Modules returns the modules to run. The embedded NATS server, when
// there is one, is the last: it stops only after every service has
// drained.
func (g *Gateway) Modules() []runtime.Module {
	mods := slices.Clone(g.modules)
	if g.nats == nil {
		return mods
	}
	var wg sync.WaitGroup
	for i, m := range mods {
		wg.Add(1)
		mods[i] = &tracked{Module: m, done: wg.Done}
	}
	return append(mods, &embeddedNATS{ns: g.nats, services: &wg})
}

// NATSURL is the embedded server's client URL ("" when not embedded).
func (g *Gateway) NATSURL() string {
	if g.nats == nil {
		return ""
	}
	return g.nats.ClientURL()
}

// Close stops the embedded server (for callers that never ran Modules).
func (g *Gateway) Close() {
	if g.nats != nil {
		g.nats.Shutdown()
		g.nats.WaitForShutdown()
	}
}

type tracked struct {
	runtime.Module
	done func()
}

func (t *tracked) Run(ctx context.Context) error {
	defer t.done()
	return t.Module.Run(ctx)
}

type embeddedNATS struct {
	ns       *server.Server
	services *sync.WaitGroup
}

func (e *embeddedNATS) Name() string { return "nats" }

func (e *embeddedNATS) Ready() error {
	if !e.ns.Running() || !e.ns.JetStreamEnabled() {
		return errors.New("embedded NATS not accepting connections")
	}
	return nil
}

func (e *embeddedNATS) Run(ctx context.Context) error {
	<-ctx.Done()
	e.services.Wait()
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	return nil
}
