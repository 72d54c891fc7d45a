package e2e

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
)

// splitStack runs Switchyard's services as separate modules on a shared
// nats-server, like harness.Split, but lets a test stop and start one
// service (a restart of its process) while the others keep running. The
// router keeps its port and its usage spool directory across restarts.
type splitStack struct {
	t      *testing.T
	common runtime.Common
	cfg    gatewayapp.Config
	log    *slog.Logger
	logs   *logBuffer
	procs  map[string]*serviceProc
}

type serviceProc struct {
	gw     *gatewayapp.Gateway
	cancel context.CancelFunc
	done   chan struct{}
}

func startSplitStack(t *testing.T) *splitStack {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	logs := &logBuffer{} // shown when a service does not come up
	s := &splitStack{t: t, logs: logs, log: slog.New(slog.NewTextHandler(logs, nil)), procs: map[string]*serviceProc{}}
	s.common.RegisterFlags(fs, "")
	s.cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	s.common.NATS.URL = natsx.StartTestServer(t).ClientURL()
	s.cfg.EmbedNATS = false
	s.cfg.DataDir = t.TempDir()
	s.cfg.Router.Listen = freeAddr(t)
	s.cfg.Router.Usage.SpoolDir = t.TempDir()
	// A restart stops publishing at once, as a crash would, so what is
	// not yet acknowledged is left in the spool for the next instance.
	s.cfg.Router.Usage.DrainTimeout = time.Millisecond
	s.cfg.Healthcheck.Refresh.Interval = time.Hour
	// Consumer keys off, as in harness.Start: this stack is about metering.
	if err := s.cfg.Router.Keys.Auth.Set("off"); err != nil {
		t.Fatal(err)
	}
	p, err := outbound.ParsePolicy("loopback")
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Router.Outbound, s.cfg.Healthcheck.Outbound = p, p
	for _, target := range gatewayapp.AllTargets() {
		s.start(target)
	}
	t.Cleanup(func() {
		for _, p := range s.procs {
			p.cancel()
			<-p.done
		}
	})
	return s
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs one service and waits until it is ready.
func (s *splitStack) start(target string) {
	s.t.Helper()
	c := s.cfg
	c.Targets = []string{target}
	gw, err := gatewayapp.New(c, s.common, "0.0.0-test", s.log.With("process", target))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &serviceProc{gw: gw, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = runtime.Run(ctx, s.log, runtime.OpsConfig{}, gw.Modules()...)
	}()
	s.procs[target] = p
	deadline := time.Now().Add(20 * time.Second)
	for runtime.ReadyCheck(gw.Modules()) != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not ready: %v\nlast log lines of the stack:\n%s", target, runtime.ReadyCheck(gw.Modules()), s.logs.tail(40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restart stops target (its in-flight work drains as on SIGTERM) and
// starts a new instance of it.
func (s *splitStack) restart(target string) {
	s.t.Helper()
	p := s.procs[target]
	p.cancel()
	<-p.done
	s.start(target)
}

func (s *splitStack) edgeURL() string { return "http://" + s.cfg.Router.Listen }

// counterValue sums a counter family in the process's default Prometheus
// registry (every service in this process shares it).
func counterValue(name string) float64 {
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return -1
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// restartAt runs fn once when progress reaches each mark.
type restartAt struct {
	mu    sync.Mutex
	marks map[int]func()
}

func (r *restartAt) reached(n int) {
	r.mu.Lock()
	fn := r.marks[n]
	delete(r.marks, n)
	r.mu.Unlock()
	if fn != nil {
		fn()
	}
}
