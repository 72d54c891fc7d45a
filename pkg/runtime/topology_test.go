package runtime

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
)

func TestTopologyExistsOnlyAfterEnsure(t *testing.T) {
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "check")
	js, err := natsx.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	o := contract.DefaultOptions()
	if err := TopologyExists(ctx, nc, js, o); !errors.Is(err, ErrTopologyMissing) {
		t.Fatalf("empty server: err = %v, want ErrTopologyMissing", err)
	}
	if err := contract.EnsureTopology(ctx, js, o); err != nil {
		t.Fatal(err)
	}
	if err := TopologyExists(ctx, nc, js, o); err != nil {
		t.Fatalf("after EnsureTopology: %v", err)
	}
}

// A bind-only service waits, creating nothing, until the init has run.
func TestConnectNATSBindOnlyWaitsForTheInit(t *testing.T) {
	ns := natsx.StartTestServer(t)
	log := slog.New(slog.DiscardHandler)
	o := contract.DefaultOptions()
	done := make(chan error, 1)
	go func() {
		nc, _, err := ConnectNATS(t.Context(), natsx.ConnConfig{URL: ns.ClientURL(), Name: "svc", BindOnly: true}, o, log)
		if err == nil {
			nc.Close()
		}
		done <- err
	}()
	admin := natsx.TestConn(t, ns, "admin")
	js, _ := natsx.JetStream(admin)
	select {
	case err := <-done:
		t.Fatalf("bind-only connect returned before the topology existed: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if names, err := streamNames(t.Context(), js); err != nil || len(names) != 0 {
		t.Fatalf("bind-only connect created streams %v (err %v)", names, err)
	}
	if err := contract.EnsureTopology(t.Context(), js, o); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bind-only connect still waiting 10s after the topology was created")
	}
}

func TestEnsureTopologyFlag(t *testing.T) {
	tests := []struct {
		args     []string
		bindOnly bool
	}{
		{nil, false},
		{[]string{"-nats-ensure-topology=false"}, true},
		{[]string{"-nats-ensure-topology"}, false},
	}
	for _, tt := range tests {
		var c Common
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		c.RegisterFlags(fs, "")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if c.NATS.BindOnly != tt.bindOnly {
			t.Errorf("%v: BindOnly = %v, want %v", tt.args, c.NATS.BindOnly, tt.bindOnly)
		}
	}
}

// A service whose serve function fails says so in its readiness, so
// /readyz names the cause instead of "starting" for ever.
func TestFailedServeIsTheReadinessError(t *testing.T) {
	ns := natsx.StartTestServer(t)
	svc := NewService("broken", Base{NATS: natsx.ConnConfig{URL: ns.ClientURL(), Name: "broken"}, Topology: contract.DefaultOptions()},
		slog.New(slog.DiscardHandler), func(context.Context, *nats.Conn, jetstream.JetStream, func()) error {
			return errors.New("bucket sy_usage_rollups is missing")
		})
	if err := svc.Ready(); err == nil || err.Error() != "starting" {
		t.Fatalf("before Run: %v", err)
	}
	if err := svc.Run(t.Context()); err == nil {
		t.Fatal("Run returned no error")
	}
	if err := svc.Ready(); err == nil || err.Error() != "stopped: bucket sy_usage_rollups is missing" {
		t.Fatalf("readiness after a failed serve = %v", err)
	}
}
