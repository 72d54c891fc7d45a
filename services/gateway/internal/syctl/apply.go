package syctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/registry/declarative"
)

const applyHelp = `
FILE is a Switchyard config (TOML) of services, credentials and model aliases,
optionally importing a connectors TOML or endpoint fixtures JSON; see
docs/declarative-config.md. apply registers, updates and deregisters through the
registry's admin subjects, so every rule and probe applies. An unchanged file
changes nothing. --dry-run prints the diff and changes nothing.

For a file the gateway re-applies whenever it changes, start it with
-registry.config-file FILE instead.`

func applyCommand() *command {
	return &command{name: "apply", summary: "make the registry match a config file (with --dry-run: print the diff)",
		usage: "-f FILE [--dry-run]", help: applyHelp, run: runApply}
}

func runApply(ctx context.Context, c *cli, args []string) error {
	var file string
	var dryRun bool
	fs := c.newFlagSet()
	fs.StringVar(&file, "f", "", "config `FILE` (TOML)")
	fs.BoolVar(&dryRun, "dry-run", false, "print the changes and make none")
	if _, err := c.parseExact(fs, args, 0, "no arguments besides -f FILE"); err != nil {
		return err
	}
	if file == "" {
		return usageErrorf("apply needs -f FILE")
	}
	cfg, err := declarative.Load(file)
	if err != nil {
		return err
	}
	nc, err := c.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, explain, stop := watchRefusals(ctx, nc)
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	planner := &declarative.Planner{API: &natsAPI{nc: nc, js: js, timeout: c.global.timeout}}
	plan, err := planner.Plan(ctx, cfg)
	if err != nil {
		return explain(err)
	}
	fmt.Fprint(c.stdout, plan.Diff())
	if dryRun || plan.Empty() {
		return nil
	}
	res := planner.Apply(ctx, plan)
	fmt.Fprintf(c.stdout, "applied %d of %d change(s)\n", len(res.Applied), len(plan.Actions))
	return explain(res.Err())
}

// natsAPI is the registry's admin API over NATS, for the planner.
type natsAPI struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	timeout time.Duration // per request: one may wait for an inline probe
}

func (a *natsAPI) call(ctx context.Context, subject string, req, rep proto.Message) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return natsrpc.Call(ctx, a.nc, subject, req, rep)
}

func (a *natsAPI) ListServices(ctx context.Context) ([]*pb.Service, error) {
	var rep pb.ListServicesResponse
	if err := a.call(ctx, contract.SubjServicesList, &pb.ListServicesRequest{}, &rep); err != nil {
		return nil, err
	}
	out := make([]*pb.Service, len(rep.GetServices()))
	for i, v := range rep.GetServices() {
		out[i] = v.GetService()
	}
	return out, nil
}

func (a *natsAPI) Register(ctx context.Context, req *pb.RegisterServiceRequest) error {
	return a.call(ctx, contract.SubjServicesRegister, req, &pb.RegisterServiceResponse{})
}

func (a *natsAPI) Update(ctx context.Context, req *pb.UpdateServiceRequest) error {
	return a.call(ctx, contract.SubjServicesUpdate, req, &pb.UpdateServiceResponse{})
}

func (a *natsAPI) Deregister(ctx context.Context, name string) error {
	return a.call(ctx, contract.SubjServicesDeregister, &pb.DeregisterServiceRequest{Name: name}, &pb.DeregisterServiceResponse{})
}

func (a *natsAPI) ListAliases(ctx context.Context) ([]*pb.ModelAlias, error) {
	var rep pb.ListAliasesResponse
	err := a.call(ctx, contract.SubjAliasesList, &pb.ListAliasesRequest{}, &rep)
	return rep.GetAliases(), err
}

func (a *natsAPI) PutAlias(ctx context.Context, alias *pb.ModelAlias) error {
	return a.call(ctx, contract.SubjAliasesPut, &pb.PutAliasRequest{Alias: alias}, &pb.PutAliasResponse{})
}

func (a *natsAPI) DeleteAlias(ctx context.Context, name string) error {
	return a.call(ctx, contract.SubjAliasesDelete, &pb.DeleteAliasRequest{Name: name}, &pb.DeleteAliasResponse{})
}

// CredentialSource reads the credential record's origin fields from
// sy_credentials (ciphertext or a reference; the key is never decoded).
func (a *natsAPI) CredentialSource(ctx context.Context, ref string) (declarative.StoredSource, bool, error) {
	kv, err := a.js.KeyValue(ctx, contract.BucketCredentials)
	if err != nil {
		return declarative.StoredSource{}, false, fmt.Errorf("open %s: %w", contract.BucketCredentials, err)
	}
	e, err := kv.Get(ctx, contract.Key(ref))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return declarative.StoredSource{}, false, nil
	}
	if err != nil {
		return declarative.StoredSource{}, false, err
	}
	src, err := declarative.DecodeStoredSource(e.Value())
	return src, err == nil, err
}
