package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/tests/bench/loadgen"
	"github.com/switchyard/switchyard/tests/bench/procstat"
)

// bench is the running set of processes.
type bench struct {
	cfg      config
	workDir  string
	fakes    map[string]*proc // by scenario name
	bare     *proc
	gateways map[string]*gateway // by target: switchyard, and switchyard-b when asked for
	targets  []string
	loads    []float64 // 1-minute load average before each path's round
}

// gateway is one switchyard process and what the load generator needs to
// reach it.
type gateway struct {
	proc     *proc // the all-in-one, or with -split the router alone
	control  *proc // with -split: registry, credential, healthcheck, metering and the NATS server
	edgePort int
	natsPort int
	// consumerKey is the key the load generator presents (a placeholder
	// with -features=off).
	consumerKey string
}

func (b *bench) all() []*proc {
	out := []*proc{b.bare}
	for _, g := range b.gateways {
		out = append(out, g.proc)
		if g.control != nil {
			out = append(out, g.control)
		}
	}
	for _, f := range b.fakes {
		out = append(out, f)
	}
	return out
}

// startBench starts the fakes, bareproxy and switchyard, and registers
// every scenario's upstream with switchyard.
func startBench(ctx context.Context, cfg config, scs []scenario) (*bench, error) {
	b := &bench{cfg: cfg, fakes: map[string]*proc{}, gateways: map[string]*gateway{},
		targets: strings.Split(cfg.targetNames, ",")}
	var err error
	if b.workDir = cfg.workDir; b.workDir == "" {
		if b.workDir, err = os.MkdirTemp("", "loadbench-"); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(b.workDir, 0o755); err != nil {
		return nil, err
	}
	slog.Info("starting processes", "work_dir", b.workDir)
	if err := b.startServers(ctx, scs); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bench) startServers(ctx context.Context, scs []scenario) error {
	bareArgs := []string{"-key", fakeKey}
	for _, s := range scs {
		p, err := startProc(b.workDir, "fake-"+s.name, filepath.Join(b.cfg.bin, "fakeupstream"),
			"-protocol", s.up.fakeProtocol, "-listen", fmt.Sprintf("127.0.0.1:%d", s.up.port),
			"-key", fakeKey, "-model", s.up.model, "-chunks", strconv.Itoa(s.up.chunks),
			"-stamp-chunks="+strconv.FormatBool(s.stream), "-chunk-delay", b.cfg.chunkDelay.String())
		if err != nil {
			return err
		}
		b.fakes[s.name] = p
		bareArgs = append(bareArgs, "-route", fmt.Sprintf("127.0.0.1:%d=%s@http://127.0.0.1:%d", s.bareBase, s.up.fakeProtocol, s.up.port))
	}
	var err error
	if b.bare, err = startProc(b.workDir, "bareproxy", filepath.Join(b.cfg.bin, "bareproxy"), bareArgs...); err != nil {
		return err
	}
	for _, t := range b.targets {
		if t == targetSwitchyard || t == targetSwitchyardB {
			if b.gateways[t], err = b.startSwitchyard(t); err != nil {
				return err
			}
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, s := range scs {
		for _, port := range []int{s.up.port, s.bareBase} {
			if err := waitListening(waitCtx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
				return err
			}
		}
	}
	for _, g := range b.gateways {
		if err := b.registerAll(waitCtx, g, scs); err != nil {
			return err
		}
	}
	return nil
}

// startSwitchyard runs an all-in-one gateway on its own ports and data
// dir, with the default (production) configuration except for logging
// at warn and loopback upstreams allowed. The target switchyard-b is a
// second gateway (its own binary and flags: -b-bin, -b-args) measured in
// the same interleaved rounds, for A/B comparisons on a noisy machine.
func (b *bench) startSwitchyard(target string) (*gateway, error) {
	base, binPath, extra := b.cfg.portBase, filepath.Join(b.cfg.bin, "switchyard"), b.cfg.switchyardArgs
	var env []string
	if target == targetSwitchyardB {
		base += 200
		extra, env = b.cfg.bArgs, strings.Fields(b.cfg.bEnv)
		if b.cfg.bBin != "" {
			binPath = b.cfg.bBin
		}
	}
	g := &gateway{edgePort: base + 80, natsPort: base + 22}
	var args, pprofArgs []string // pprofArgs go to the process serving the edge
	if b.cfg.pprofDir != "" && target == targetSwitchyard {
		binPath, pprofArgs = filepath.Join(b.cfg.bin, "switchyardpprof"), []string{"-pprof-listen", fmt.Sprintf("127.0.0.1:%d", base+60)}
	}
	if b.cfg.features == featuresOff {
		args = append(args, "-router.auth=off")
	}
	args = append(args, strings.Fields(extra)...)
	args = append(args, "-outbound-allow=loopback", "-log-level", "warn",
		"-data-dir", filepath.Join(b.workDir, "data-"+target),
		"-nats-listen", fmt.Sprintf("127.0.0.1:%d", g.natsPort),
		"-router.listen", fmt.Sprintf("127.0.0.1:%d", g.edgePort),
		"-ops-listen", fmt.Sprintf("127.0.0.1:%d", base+90))
	if !b.cfg.split {
		var err error
		g.proc, err = startProcEnv(b.workDir, target, binPath, env, append(pprofArgs, args...)...)
		return g, err
	}
	// -split: the production shape, the router in a process of its own
	// connected to the control plane's NATS server.
	var err error
	if g.control, err = startProcEnv(b.workDir, target+"-control", binPath, env,
		append(args, "-target=registry,credential,healthcheck,metering")...); err != nil {
		return g, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitListening(ctx, fmt.Sprintf("127.0.0.1:%d", g.natsPort)); err != nil {
		return g, err
	}
	routerArgs := append(append(pprofArgs, args...), "-target=router", "-nats-embedded=false",
		"-nats-url", fmt.Sprintf("nats://127.0.0.1:%d", g.natsPort), "-ops-listen", fmt.Sprintf("127.0.0.1:%d", base+91))
	g.proc, err = startProcEnv(b.workDir, target, binPath, env, routerArgs...)
	return g, err
}

func (b *bench) registerAll(ctx context.Context, g *gateway, scs []scenario) error {
	natsAddr := fmt.Sprintf("127.0.0.1:%d", g.natsPort)
	if err := waitListening(ctx, natsAddr); err != nil {
		return err
	}
	nc, err := nats.Connect("nats://"+natsAddr, nats.Name("loadbench"))
	if err != nil {
		return err
	}
	defer nc.Close()
	edgeURL := fmt.Sprintf("http://127.0.0.1:%d", g.edgePort)
	g.consumerKey = "sk-unused-auth-off"
	if b.cfg.features != featuresOff {
		if g.consumerKey, err = createConsumerKey(ctx, nc, b.cfg.features == featuresFull); err != nil {
			return err
		}
	}
	for _, s := range scs {
		if err := register(ctx, nc, edgeURL, fakeKey, g.consumerKey, s.up); err != nil {
			return err
		}
		slog.Info("registered", "gateway", g.proc.name, "service", s.up.name, "protocol", s.up.protocol)
	}
	return nil
}

func (b *bench) stop() {
	for _, p := range b.all() {
		if p != nil {
			p.stop()
		}
	}
}

// servers are the processes a request on target passes through, with the
// role each plays in the report.
func (b *bench) servers(s scenario, target string) map[string]*proc {
	m := map[string]*proc{"fake": b.fakes[s.name]}
	switch target {
	case targetBare:
		m["proxy"] = b.bare
	case targetSwitchyard, targetSwitchyardB:
		g := b.gateways[target]
		m["proxy"] = g.proc
		if g.control != nil {
			m["control"] = g.control
		}
	}
	return m
}

// peakRSS reads every process's VmHWM.
func (b *bench) peakRSS() map[string]int64 {
	out := map[string]int64{}
	for _, p := range b.all() {
		if rss, err := procstat.PeakRSS(p.pid()); err == nil {
			out[p.name] = rss
		}
	}
	return out
}

// phase is one measured load run on one path.
type phase struct {
	res      loadgen.Result
	cpu      map[string]time.Duration // by role
	timeWait int                      // new TIME_WAIT sockets on the upstream port
	syscalls map[string]syscallCount  // by role
}

// syscallCount is read-like and write-like system calls.
type syscallCount struct{ reads, writes int64 }

// measure runs load and charges the CPU the servers used meanwhile to it.
func measure(servers map[string]*proc, upstreamPort int, load func() loadgen.Result) phase {
	before, sysBefore := cpuOf(servers), syscallsOf(servers)
	twBefore, _ := procstat.TimeWait(upstreamPort)
	res := load()
	after, sysAfter := cpuOf(servers), syscallsOf(servers)
	twAfter, _ := procstat.TimeWait(upstreamPort)
	ph := phase{res: res, cpu: map[string]time.Duration{}, timeWait: max(twAfter-twBefore, 0),
		syscalls: map[string]syscallCount{}}
	for role, t := range after {
		ph.cpu[role] = t - before[role]
		ph.syscalls[role] = syscallCount{sysAfter[role].reads - sysBefore[role].reads, sysAfter[role].writes - sysBefore[role].writes}
	}
	return ph
}

func syscallsOf(servers map[string]*proc) map[string]syscallCount {
	out := map[string]syscallCount{}
	for role, p := range servers {
		r, w, err := procstat.Syscalls(p.pid())
		if err != nil {
			slog.Warn("syscalls of "+p.name, "err", err)
		}
		out[role] = syscallCount{r, w}
	}
	return out
}

func cpuOf(servers map[string]*proc) map[string]time.Duration {
	out := map[string]time.Duration{}
	for role, p := range servers {
		t, err := procstat.CPU(p.pid())
		if err != nil {
			slog.Warn("cpu of "+p.name, "err", err) // the process died; its log says why
		}
		out[role] = t
	}
	return out
}
