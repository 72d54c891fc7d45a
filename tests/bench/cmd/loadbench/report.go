package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report renders the results as markdown.
type report struct {
	cfg       config
	started   time.Time
	scenarios []scenarioResult
	rss       map[string]int64
	loads     []float64
}

func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### loadbench %s\n\n", r.started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %s; %s, GOMAXPROCS %d. 1-minute load average during the run: %s "+
		"(above ~2 the machine was shared with other work; compare paths within a round, not across runs).\n\n",
		cpuModel(), runtime.Version(), runtime.GOMAXPROCS(0), loadRange(r.loads))
	fmt.Fprintf(&b, "Run: %d interleaved rounds × (%v warm-up, %v closed loop at %d conns, %v open loop); features=%s.\n\n",
		r.cfg.rounds, r.cfg.warmup, r.cfg.closedFor, r.cfg.conns, r.cfg.openFor, r.cfg.features)
	b.WriteString("| scenario | path | req/s @" + fmt.Sprint(r.cfg.conns) + " conns (min–max) | open-loop rate (achieved) | " +
		"p50 / p99 / p99.9 ms | req/s vs bare (median of rounds) | CPU µs/req at rate: proxy / fake | CPU µs/req @" + fmt.Sprint(r.cfg.conns) + ": proxy / fake | proxy syscalls/req @" + fmt.Sprint(r.cfg.conns) + ": read / write | new TIME_WAIT | failed |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, sr := range r.scenarios {
		bare := sr.path(targetBare)
		for _, p := range sr.paths {
			b.WriteString(row(sr.s, p, bare))
		}
	}
	b.WriteString(chunkTable(r.scenarios))
	shape := "switchyard is the all-in-one process: edge, embedded NATS, metering, registry, healthcheck"
	if r.cfg.split {
		shape = "switchyard is two processes: the router, + the control plane (NATS server, metering, registry, credential, healthcheck)"
	}
	b.WriteString("\nCPU is utime+stime of the process over the phase divided by successful requests (" + shape + "). " +
		"For streams, the value in brackets is per chunk (200 chunks per answer).\n\n")
	b.WriteString("| process | peak RSS (VmHWM) MB |\n|---|---|\n")
	names := make([]string, 0, len(r.rss))
	for n := range r.rss {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "| %s | %.1f |\n", n, float64(r.rss[n])/(1<<20))
	}
	return b.String()
}

func row(s scenario, p, bare *pathResult) string {
	rps := "—"
	if len(p.closedRPS) > 0 {
		mean := float64(p.closed.OK) / p.closed.Elapsed.Seconds()
		rps = fmt.Sprintf("%.0f (%.0f–%.0f)", mean, slices.Min(p.closedRPS), slices.Max(p.closedRPS))
	}
	h := p.open.Latency
	achieved := 0.0
	if p.open.Elapsed > 0 {
		achieved = float64(p.open.OK) / p.open.Elapsed.Seconds()
	}
	failed := fmt.Sprint(p.closed.Failed + p.open.Failed)
	if p.closed.FirstError != "" || p.open.FirstError != "" {
		failed += " (" + strings.ReplaceAll(p.closed.FirstError+p.open.FirstError, "|", "/") + ")"
	}
	sys := "—"
	if p.closed.OK > 0 && p.target != targetDirect {
		sys = fmt.Sprintf("%.1f / %.1f", float64(p.sysClosed.reads)/float64(p.closed.OK), float64(p.sysClosed.writes)/float64(p.closed.OK))
	}
	return fmt.Sprintf("| %s | %s | %s | %.0f (%.0f) | %s / %s / %s | %s | %s | %s | %s | %d | %.120s |\n",
		s.name, p.target, rps, s.rate, achieved, ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999)),
		ratioToBare(p, bare), cpuCell(s, p.cpuOpn, p.open.OK), cpuCell(s, p.cpuClosed, p.closed.OK), sys, p.timeWait, failed)
}

// chunkTable is the per-chunk latency of the streamed scenarios at the
// fixed rate: from the fake writing a chunk (its stamp) to the client
// reading it, and what each path adds over the direct one.
func chunkTable(scs []scenarioResult) string {
	var b strings.Builder
	for _, sr := range scs {
		if !sr.s.stream {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nPer-chunk latency at the fixed rate (fake writes a chunk → the client reads it; same clock):\n\n" +
				"| scenario | path | chunks | p50 / p99 / p99.9 ms | added vs direct p50 / p99 ms |\n|---|---|---|---|---|\n")
		}
		direct := sr.path(targetDirect)
		for _, p := range sr.paths {
			h := p.open.ChunkLatency
			if h == nil || h.Count() == 0 {
				continue
			}
			added := "—"
			if d := direct; d != nil && d != p && d.open.ChunkLatency != nil && d.open.ChunkLatency.Count() > 0 {
				dh := d.open.ChunkLatency
				added = ms(h.Quantile(0.5)-dh.Quantile(0.5)) + " / " + ms(h.Quantile(0.99)-dh.Quantile(0.99))
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s / %s / %s | %s |\n", sr.s.name, p.target, h.Count(),
				ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999)), added)
		}
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// cpuCell is "proxy / fake" µs per request (and per chunk for streams).
func cpuCell(s scenario, cpu map[string]time.Duration, requests int64) string {
	if requests == 0 {
		return "—"
	}
	per := func(role string) string {
		t, ok := cpu[role]
		if !ok {
			return "—"
		}
		us := float64(t.Microseconds()) / float64(requests)
		if s.stream {
			return fmt.Sprintf("%.0f (%.2f)", us, us/float64(s.up.chunks))
		}
		return fmt.Sprintf("%.0f", us)
	}
	if _, split := cpu["control"]; split {
		return per("proxy") + " + " + per("control") + " / " + per("fake")
	}
	return per("proxy") + " / " + per("fake")
}

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(raw)) {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return fmt.Sprintf("%d × %s", runtime.NumCPU(), strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":")))
		}
	}
	return fmt.Sprintf("%d CPUs", runtime.NumCPU())
}

// ratioToBare is the median over rounds of p's req/s divided by the bare
// proxy's in the same round: robust to a noisy machine, since both ran
// seconds apart.
func ratioToBare(p, bare *pathResult) string {
	if bare == nil || len(bare.closedRPS) != len(p.closedRPS) || len(p.closedRPS) == 0 {
		return "—"
	}
	ratios := make([]float64, len(p.closedRPS))
	for i, rps := range p.closedRPS {
		ratios[i] = rps / max(bare.closedRPS[i], 1)
	}
	slices.Sort(ratios)
	return fmt.Sprintf("%.2f×", ratios[len(ratios)/2])
}

// loadAvg1 is the 1-minute load average (0 if unreadable).
func loadAvg1() float64 {
	raw, _ := os.ReadFile("/proc/loadavg")
	var v float64
	_, _ = fmt.Sscan(string(raw), &v)
	return v
}

func loadRange(loads []float64) string {
	if len(loads) == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f–%.1f", slices.Min(loads), slices.Max(loads))
}
