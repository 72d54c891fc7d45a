package gatewayapp

import (
	"context"
	"log/slog"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
)

// TargetInit is the one-shot topology init of a split deployment: it
// creates or updates every JetStream stream, KV bucket and consumer
// (contract.EnsureTopology) and exits 0. Run it as the admin NATS user (a
// compose init service, a Kubernetes Job) so the services can run with
// -nats-ensure-topology=false and users without stream create rights. It
// is never part of "all" and never embeds NATS.
const TargetInit = "init"

const initDoc = "one-shot: create/update the JetStream topology as the admin user, then exit (run alone, never in all)"

// initModule is the init target's module.
type initModule struct {
	conn natsx.ConnConfig
	topo contract.Options
	log  *slog.Logger
	runtime.Readiness
}

func newInit(conn natsx.ConnConfig, topo contract.Options, log *slog.Logger) *initModule {
	conn.BindOnly = false // the init is what creates the topology
	return &initModule{conn: conn, topo: topo, log: log.With("svc", TargetInit)}
}

func (m *initModule) Name() string { return TargetInit }

// Run ensures the topology, retrying until NATS answers, then returns so
// the process exits.
func (m *initModule) Run(ctx context.Context) error {
	nc, _, err := runtime.ConnectNATS(ctx, m.conn, m.topo, m.log)
	if err != nil {
		return err
	}
	defer runtime.CloseNATS(nc)
	t := contract.Declare(m.topo)
	m.log.Info("NATS topology ensured", "streams", len(t.Streams), "buckets", len(t.Buckets),
		"consumers", len(t.Consumers), "replicas", max(m.topo.Replicas, 1))
	m.Set(nil)
	return nil
}

// onlyInit reports whether targets asks for the init alone.
func onlyInit(targets []string) bool { return len(targets) == 1 && targets[0] == TargetInit }
