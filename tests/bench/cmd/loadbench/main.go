// Command loadbench is Switchyard's end-to-end benchmark (issue 8). It
// starts, as separate processes, fake upstreams (tests/fakes), a bare
// httputil.ReverseProxy (bareproxy) and the all-in-one switchyard, then
// drives each path with the loadgen package in interleaved rounds (direct,
// bare, switchyard, direct, bare, switchyard, …) so machine noise lands on
// every path alike. Per scenario and path it reports req/s at N
// connections (closed loop), p50/p99/p99.9 at a fixed rate (open loop),
// CPU µs per request of each server process (/proc/<pid>/stat), new
// TIME_WAIT sockets toward the upstream, and each process's peak RSS.
//
//	loadbench -bin ./bin -rounds 3 -out bench-results.md
//
// With -pprof-dir it runs switchyardpprof instead of switchyard and saves
// a CPU, allocation and mutex profile per scenario from an extra
// closed-loop run after the measured rounds.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	bin, workDir, out, pprofDir, features string
	switchyardArgs, bBin, bArgs, bEnv     string
	scenarioNames, targetNames            string
	rounds, conns, maxInFlight, portBase  int
	warmup, closedFor, openFor, profFor   time.Duration
	chunkDelay                            time.Duration
	split                                 bool
	rate, streamRate, profRate            float64
}

// Feature sets Switchyard runs with (issue 8 measures both).
const (
	featuresFull = "full" // issue 8's target set: consumer-key auth, a key with (high) RPM/TPM limits the limiter enforces, metering
	featuresAuth = "auth" // consumer-key auth with a key without limits (the limiter is not consulted), metering
	featuresOff  = "off"  // -router.auth=off; metering stays on (it cannot be turned off)
)

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.StringVar(&c.bin, "bin", "bin", "directory with switchyard, fakeupstream, bareproxy (and switchyardpprof)")
	fs.StringVar(&c.workDir, "work-dir", "", "logs and the gateway's data dir (default: a new temp dir)")
	fs.StringVar(&c.out, "out", "", "also write the markdown report to this file")
	fs.StringVar(&c.pprofDir, "pprof-dir", "", "profile switchyard (via switchyardpprof) and save profiles here")
	fs.StringVar(&c.features, "features", featuresFull, "switchyard feature set: full (auth + limits + metering) | auth (no key limits) | off (no auth)")
	fs.StringVar(&c.switchyardArgs, "switchyard-args", "", "extra space-separated flags for switchyard, e.g. '-router.usage-batch-max=256'")
	fs.StringVar(&c.bBin, "b-bin", "", "target switchyard-b: its binary (default: the same switchyard)")
	fs.StringVar(&c.bArgs, "b-args", "", "target switchyard-b: its extra flags, e.g. '-nats-sync-always=false'")
	fs.StringVar(&c.bEnv, "b-env", "", "target switchyard-b: extra space-separated environment, e.g. 'GOMEMLIMIT=64MiB GOGC=50'")
	fs.StringVar(&c.scenarioNames, "scenarios", "chat,stream,anthropic-stream", "scenarios to run")
	fs.StringVar(&c.targetNames, "targets", "direct,bare,switchyard", "paths to compare, interleaved in this order: direct, bare, switchyard, switchyard-b")
	fs.IntVar(&c.rounds, "rounds", 3, "interleaved rounds per scenario")
	fs.IntVar(&c.conns, "conns", 64, "closed-loop connections")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 512, "open-loop cap on outstanding requests")
	fs.IntVar(&c.portBase, "port-base", 18000, "ports used: base+1..3 fakes, +22 NATS, +60 pprof, +80 edge, +90 ops, +101..103 bareproxy; switchyard-b the same +200")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured closed-loop load before each path's round")
	fs.DurationVar(&c.closedFor, "closed", 3*time.Second, "closed-loop duration per path per round")
	fs.DurationVar(&c.openFor, "open", 5*time.Second, "open-loop duration per path per round")
	fs.DurationVar(&c.profFor, "profile-for", 10*time.Second, "length of each profiled run (with -pprof-dir)")
	fs.Float64Var(&c.profRate, "profile-rate", 0, "profile at this open-loop rate (0: closed loop at -conns)")
	fs.Float64Var(&c.rate, "rate", 1000, "open-loop requests per second, non-streaming")
	fs.DurationVar(&c.chunkDelay, "stream-chunk-delay", 0, "pause between the stream fakes' chunks (0: back to back; a few ms models token pacing, for per-chunk latency)")
	fs.Float64Var(&c.streamRate, "stream-rate", 100, "open-loop requests per second, streaming (200 chunks each)")
	fs.BoolVar(&c.split, "split", false, "run each switchyard as two processes, as compose and Kubernetes do: the router alone, and the control plane (registry, credential, healthcheck, metering, NATS); CPU is then shown as router + control plane")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch c.features {
	case featuresFull, featuresAuth, featuresOff:
	default:
		return c, fmt.Errorf("-features %q: want auth, off or full", c.features)
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		slog.Error("loadbench", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	scs, err := scenarios(strings.Split(cfg.scenarioNames, ","), cfg.portBase, cfg.rate, cfg.streamRate)
	if err != nil {
		return err
	}
	b, err := startBench(ctx, cfg, scs)
	if err != nil {
		return err
	}
	defer b.stop()
	rep := report{cfg: cfg, started: time.Now()}
	for _, s := range scs {
		rep.scenarios = append(rep.scenarios, b.runScenario(ctx, s))
		if cfg.pprofDir != "" {
			if err := b.profile(ctx, s); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	rep.rss, rep.loads = b.peakRSS(), b.loads
	text := rep.markdown()
	fmt.Print(text)
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(text), 0o644)
	}
	return nil
}
