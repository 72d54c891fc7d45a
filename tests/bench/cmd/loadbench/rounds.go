package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchyard/switchyard/tests/bench/loadgen"
)

// pathResult accumulates one path's phases over every round.
type pathResult struct {
	target            string
	closed, open      loadgen.Result
	closedRPS         []float64 // per round, to show the spread
	cpuClosed, cpuOpn map[string]time.Duration
	sysClosed         syscallCount // the proxy's, over the closed-loop phases
	timeWait          int
}

func (p *pathResult) add(closed, open phase) {
	p.closedRPS = append(p.closedRPS, closed.res.Throughput())
	mergeResult(&p.closed, closed.res)
	mergeResult(&p.open, open.res)
	for role, t := range closed.cpu {
		p.cpuClosed[role] += t
	}
	for role, t := range open.cpu {
		p.cpuOpn[role] += t
	}
	p.timeWait += closed.timeWait + open.timeWait
	p.sysClosed.reads += closed.syscalls["proxy"].reads
	p.sysClosed.writes += closed.syscalls["proxy"].writes
}

func mergeResult(dst *loadgen.Result, src loadgen.Result) {
	if dst.Latency == nil {
		dst.Latency = loadgen.NewHistogram()
	}
	dst.OK += src.OK
	dst.Failed += src.Failed
	dst.Elapsed += src.Elapsed
	dst.Latency.Merge(src.Latency)
	if src.ChunkLatency != nil {
		if dst.ChunkLatency == nil {
			dst.ChunkLatency = loadgen.NewHistogram()
		}
		dst.ChunkLatency.Merge(src.ChunkLatency)
	}
	if dst.FirstError == "" {
		dst.FirstError = src.FirstError
	}
}

// scenarioResult is one scenario's paths, in target order.
type scenarioResult struct {
	s     scenario
	paths []*pathResult
}

// runScenario runs the rounds, interleaving the paths within each round.
func (b *bench) runScenario(ctx context.Context, s scenario) scenarioResult {
	out := scenarioResult{s: s}
	byTarget := map[string]*pathResult{}
	for _, t := range b.targets {
		p := &pathResult{target: t, cpuClosed: map[string]time.Duration{}, cpuOpn: map[string]time.Duration{}}
		byTarget[t] = p
		out.paths = append(out.paths, p)
	}
	client := loadgen.NewClient(max(b.cfg.conns, b.cfg.maxInFlight))
	defer client.CloseIdleConnections()
	for round := range b.cfg.rounds {
		for _, t := range b.targets {
			if ctx.Err() != nil {
				return out
			}
			b.loads = append(b.loads, loadAvg1())
			closed, open := b.runPath(ctx, client, s, t)
			byTarget[t].add(closed, open)
			slog.Info("round", "scenario", s.name, "round", round+1, "path", t,
				"req_per_s", int(closed.res.Throughput()), "p99_at_rate", open.res.Latency.Quantile(0.99),
				"failed_closed", closed.res.Failed, "failed_open", open.res.Failed, "err", closed.res.FirstError+open.res.FirstError)
		}
	}
	return out
}

// runPath warms the path up, then runs its closed- and open-loop phases.
func (b *bench) runPath(ctx context.Context, c *http.Client, s scenario, target string) (closed, open phase) {
	req := b.request(s, target)
	servers := b.servers(s, target)
	loadgen.ClosedLoop(ctx, c, req, b.cfg.conns, b.cfg.warmup)
	closed = measure(servers, s.up.port, func() loadgen.Result {
		return loadgen.ClosedLoop(ctx, c, req, b.cfg.conns, b.cfg.closedFor)
	})
	open = measure(servers, s.up.port, func() loadgen.Result {
		return loadgen.OpenLoop(ctx, c, req, s.rate, b.cfg.openFor, b.cfg.maxInFlight)
	})
	return closed, open
}

// profile drives switchyard closed-loop for profFor while fetching a CPU
// profile, and saves allocation and mutex profiles taken before and
// after (compare with `go tool pprof -base`), and heap and goroutine
// profiles halfway through the load.
func (b *bench) profile(ctx context.Context, s scenario) error {
	base := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", b.cfg.portBase+60)
	if err := os.MkdirAll(b.cfg.pprofDir, 0o755); err != nil {
		return err
	}
	file := func(kind string) string { return filepath.Join(b.cfg.pprofDir, s.name+"."+kind+".pprof") }
	for _, kind := range []string{"allocs", "mutex"} {
		if err := fetch(ctx, base+kind, file(kind+"-before")); err != nil {
			return err
		}
	}
	client := loadgen.NewClient(max(b.cfg.conns, b.cfg.maxInFlight))
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var cpuErr error
	secs := int(b.cfg.profFor.Seconds())
	wg.Go(func() { cpuErr = fetch(ctx, fmt.Sprintf("%sprofile?seconds=%d", base, secs), file("cpu")) })
	wg.Go(func() { // what holds memory while the load runs (the "after" profiles see it drained)
		select {
		case <-time.After(b.cfg.profFor / 2):
		case <-ctx.Done():
			return
		}
		for _, kind := range []string{"heap", "goroutine"} {
			if err := fetch(ctx, base+kind, file(kind+"-under-load")); err != nil {
				slog.Warn("profile under load", "kind", kind, "err", err)
			}
		}
	})
	req, d := b.request(s, targetSwitchyard), b.cfg.profFor+time.Second
	var res loadgen.Result
	if b.cfg.profRate > 0 {
		res = loadgen.OpenLoop(ctx, client, req, b.cfg.profRate, d, b.cfg.maxInFlight)
	} else {
		res = loadgen.ClosedLoop(ctx, client, req, b.cfg.conns, d)
	}
	wg.Wait()
	if cpuErr != nil {
		return cpuErr
	}
	slog.Info("profiled", "scenario", s.name, "requests", res.OK, "dir", b.cfg.pprofDir)
	for _, kind := range []string{"allocs", "mutex"} {
		if err := fetch(ctx, base+kind, file(kind+"-after")); err != nil {
			return err
		}
	}
	return nil
}

func fetch(ctx context.Context, url, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pprof %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", url, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// path returns the result of target, or nil if it was not run.
func (sr scenarioResult) path(target string) *pathResult {
	for _, p := range sr.paths {
		if p.target == target {
			return p
		}
	}
	return nil
}

// request is what target receives in scenario s.
func (b *bench) request(s scenario, target string) loadgen.Request {
	if g := b.gateways[target]; g != nil {
		return s.request(target, g.edgePort, g.consumerKey)
	}
	return s.request(target, 0, "")
}
