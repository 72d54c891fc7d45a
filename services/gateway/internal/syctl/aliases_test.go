package syctl

import (
	"google.golang.org/protobuf/proto"

	"testing"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestAliasesPutSendsTargetsAndWeights(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjAliasesPut, func() *pb.PutAliasRequest { return &pb.PutAliasRequest{} },
		func(req *pb.PutAliasRequest) (proto.Message, error) {
			return &pb.PutAliasResponse{Alias: req.GetAlias()}, nil
		})
	r := e.run(t, "", "aliases", "put", "gpt-4o", "--target", "openai=3", "--target", "azure", "--model-from", "header:X-Model")
	assertCode(t, r, ExitOK)
	assertProto(t, "request", &pb.PutAliasRequest{Alias: &pb.ModelAlias{Name: "gpt-4o", ModelFrom: "header:X-Model",
		Targets: []*pb.AliasTarget{{Service: "openai", Weight: 3}, {Service: "azure"}}}}, rec.only(t))
	assertContains(t, "output", r.stdout, `Alias "gpt-4o" now routes to openai (weight 3), azure (weight 1).`)
}

func TestAliasesPutRefusals(t *testing.T) {
	e := newTestEnv(t)
	serveFake(t, e, contract.SubjAliasesPut, func() *pb.PutAliasRequest { return &pb.PutAliasRequest{} },
		replyWith[*pb.PutAliasRequest](nil, apierr.Field("alias.targets", `alias "m" targets "ghost", which is not registered`)))
	r := e.run(t, "", "aliases", "put", "m", "--target", "a=x")
	assertCode(t, r, ExitUsage)
	assertContains(t, "stderr", r.stderr, "must be a whole number")
	r = e.run(t, "", "aliases", "put", "m", "--target", "ghost")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, `targets "ghost", which is not registered`, "field: alias.targets")
}

func TestAliasesListTableAndJSON(t *testing.T) {
	e := newTestEnv(t)
	reply := &pb.ListAliasesResponse{Aliases: []*pb.ModelAlias{
		{Name: "chat", Targets: []*pb.AliasTarget{{Service: "a", Weight: 2}, {Service: "b"}}},
	}}
	serveFake(t, e, contract.SubjAliasesList, func() *pb.ListAliasesRequest { return &pb.ListAliasesRequest{} },
		replyWith[*pb.ListAliasesRequest](reply, nil))
	r := e.run(t, "", "aliases", "list")
	assertCode(t, r, ExitOK)
	assertContains(t, "table", r.stdout, "NAME", "TARGETS", "chat", "a (weight 2), b (weight 1)")
	r = e.run(t, "", "aliases", "list", "-o", "json")
	assertCode(t, r, ExitOK)
	assertContains(t, "json", r.stdout, `"name": "chat"`, `"service": "a"`, `"weight": 2`)
}

func TestApplyNeedsAFile(t *testing.T) {
	e := newTestEnv(t)
	assertCode(t, e.run(t, "", "apply"), ExitUsage)
	r := e.run(t, "", "apply", "-f", "testdata-missing.toml")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, "testdata-missing.toml")
}
