package gatewayapp

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
)

func TestParseTargetsInitRunsAlone(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{[]string{"init"}, []string{"init"}, false},
		{[]string{"init", "router"}, nil, true},
		{[]string{"all"}, AllTargets(), false},
	}
	for _, tt := range tests {
		got, err := ParseTargets(tt.in)
		if (err != nil) != tt.wantErr || len(got) != len(tt.want) {
			t.Errorf("ParseTargets(%v) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// -target=init creates the topology on an external server, embeds
// nothing, and returns by itself.
func TestInitTargetEnsuresTopologyAndExits(t *testing.T) {
	ns := natsx.StartTestServer(t)
	log := slog.New(slog.DiscardHandler)
	common := runtime.Common{NATS: natsx.ConnConfig{URL: ns.ClientURL(), BindOnly: true}, Topology: contract.DefaultOptions()}
	gw, err := New(Config{Targets: config.StringList{TargetInit}, EmbedNATS: true}, common, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	if gw.NATSURL() != "" {
		t.Fatalf("init embedded a NATS server at %s", gw.NATSURL())
	}
	done := make(chan error, 1)
	go func() { done <- runtime.Run(t.Context(), log, runtime.OpsConfig{}, gw.Modules()...) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("init did not exit")
	}
	nc := natsx.TestConn(t, ns, "check")
	js, _ := natsx.JetStream(nc)
	if err := runtime.TopologyExists(t.Context(), nc, js, contract.DefaultOptions()); err != nil {
		t.Fatalf("after init: %v", err)
	}
}
