package syctl

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

const canaryKey = "sk-canary-7f3a9c1e55d04b2b"

func readyView(name string) *pb.ServiceView {
	return &pb.ServiceView{
		Service: &pb.Service{Name: name, Model: "gpt-4o", BaseUrl: "https://api.openai.com", Protocol: "OPENAI_V1",
			Functions: []string{"chat"}},
		Status: &pb.Status{Service: name, State: "Ready", HttpStatus: 200, KeyVerified: true},
	}
}

func valueKey(v string) *pb.CredentialSource {
	return &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: v}}
}

func TestRegisterSendsTheRequest(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  *pb.RegisterServiceRequest
	}{{
		name:  "key from stdin, repeated and comma-separated lists",
		stdin: canaryKey + "\n",
		args: []string{"gpt4o", "--model", "gpt-4o", "--base-url", "https://api.openai.com", "--protocol", "OPENAI_V1",
			"--function", "chat", "--function", "embeddings", "--tag", "eu,prod", "--namespace", "team-a", "--api-key", "-"},
		want: &pb.RegisterServiceRequest{Credential: valueKey(canaryKey), Service: &pb.Service{
			Name: "gpt4o", Model: "gpt-4o", BaseUrl: "https://api.openai.com", Protocol: "OPENAI_V1",
			Functions: []string{"chat", "embeddings"}, Tags: []string{"eu", "prod"}, Namespace: "team-a"}},
	}, {
		name: "flags before the name, key from an env var",
		args: []string{"--model", "claude-sonnet-4", "--base-url", "https://api.anthropic.com", "--protocol", "ANTHROPIC_V1",
			"claude", "--api-key-env", "ANTHROPIC_API_KEY"},
		want: &pb.RegisterServiceRequest{
			Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Env{Env: "ANTHROPIC_API_KEY"}},
			Service: &pb.Service{Name: "claude", Model: "claude-sonnet-4", BaseUrl: "https://api.anthropic.com",
				Protocol: "ANTHROPIC_V1"}},
	}, {
		name: "azure with a key file and insecure TLS",
		args: []string{"az", "--model", "gpt-4o", "--base-url", "https://x.openai.azure.com", "--protocol", "AZURE_OPENAI",
			"--azure-deployment", "prod-4o", "--azure-api-version", "2024-10-21", "--allow-insecure-tls",
			"--api-key-file", "/run/secrets/azure"},
		want: &pb.RegisterServiceRequest{
			Credential: &pb.CredentialSource{Source: &pb.CredentialSource_File{File: "/run/secrets/azure"}},
			Service: &pb.Service{Name: "az", Model: "gpt-4o", BaseUrl: "https://x.openai.azure.com", Protocol: "AZURE_OPENAI",
				AzureDeployment: "prod-4o", AzureApiVersion: "2024-10-21", AllowInsecureTls: true}},
	}, {
		name: "access policy and service limits",
		args: []string{"gated", "--model", "m", "--base-url", "https://h", "--protocol", "OPENAI_V1",
			"--allow-group", "research", "--allow-group", "ops", "--allow-domain", "lab.example", "--rpm", "600", "--tpm", "90000",
			"--api-key-env", "K"},
		want: &pb.RegisterServiceRequest{
			Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Env{Env: "K"}},
			Service: &pb.Service{Name: "gated", Model: "m", BaseUrl: "https://h", Protocol: "OPENAI_V1",
				AllowedGroups: []string{"research", "ops"}, AllowedDomains: []string{"lab.example"},
				Limits: &pb.Limits{Rpm: 600, Tpm: 90000}}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serveFake(t, e, contract.SubjServicesRegister, func() *pb.RegisterServiceRequest { return &pb.RegisterServiceRequest{} },
				func(req *pb.RegisterServiceRequest) (proto.Message, error) {
					return &pb.RegisterServiceResponse{Service: readyView(req.GetService().GetName())}, nil
				})
			r := e.run(t, tc.stdin, append([]string{"services", "register"}, tc.args...)...)
			assertCode(t, r, ExitOK)
			assertProto(t, "request", tc.want, rec.only(t))
			assertContains(t, "stderr", r.stderr, "probing upstream")
			assertContains(t, "stdout", r.stdout, tc.want.GetService().GetName(), "Ready")
			if strings.Contains(r.all(), canaryKey) {
				t.Errorf("the API key was printed:\n%s", r.all())
			}
		})
	}
}

func TestServicesUsageErrorsSendNothing(t *testing.T) {
	e := newTestEnv(t)
	reg := serveFake(t, e, contract.SubjServicesRegister, func() *pb.RegisterServiceRequest { return &pb.RegisterServiceRequest{} },
		replyWith[*pb.RegisterServiceRequest](&pb.RegisterServiceResponse{}, nil))
	upd := serveFake(t, e, contract.SubjServicesUpdate, func() *pb.UpdateServiceRequest { return &pb.UpdateServiceRequest{} },
		replyWith[*pb.UpdateServiceRequest](&pb.UpdateServiceResponse{}, nil))
	full := []string{"services", "register", "x", "--model", "m", "--base-url", "https://h", "--protocol", "OPENAI_V1"}
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no name", "", []string{"services", "register", "--model", "m"}, "one NAME"},
		{"two names", "", []string{"services", "register", "a", "b"}, "one NAME"},
		{"missing required", "", []string{"services", "register", "x", "--model", "m"}, "--base-url, --protocol"},
		{"two key sources", "", append(full, "--api-key-env", "A", "--api-key-file", "/f"), "one way only"},
		{"empty stdin", " \n", append(full, "--api-key", "-"), "no key on stdin"},
		{"empty env name", "", append(full, "--api-key-env", ""), "--api-key-env is empty"},
		{"unknown flag", "", append(full, "--colour", "red"), "-colour"},
		{"bad output", "", append(full, "-o", "yaml"), "unknown output format"},
		{"update nothing", "", []string{"services", "update", "x"}, "nothing to update"},
		{"list bad status", "", []string{"services", "list", "--status", "Broken"}, "unknown --status"},
		{"unknown subcommand", "", []string{"services", "frobnicate"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.stdin, tc.args...)
			assertCode(t, r, ExitUsage)
			assertContains(t, "stderr", r.stderr, tc.want)
		})
	}
	if n := len(reg.requests()) + len(upd.requests()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

func listFixture() *pb.ListServicesResponse {
	failed := readyView("broken")
	failed.Service.Model = "meta/llama-3.1-8b-instruct"
	failed.Status = &pb.Status{State: "Failed", Message: "The upstream answered 401 Unauthorized to GET /v1/models: " +
		"the API key is wrong or revoked; rotate it with `syctl services update broken --api-key -`"}
	return &pb.ListServicesResponse{Services: []*pb.ServiceView{failed, readyView("gpt4o")}}
}

func TestListTableAndJSON(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjServicesList, func() *pb.ListServicesRequest { return &pb.ListServicesRequest{} },
		replyWith[*pb.ListServicesRequest](listFixture(), nil))

	r := e.run(t, "", "services", "list", "--function", "chat", "--tag", "eu", "--status", "failed")
	assertCode(t, r, ExitOK)
	want := &pb.ListServicesRequest{Function: "chat", Tag: "eu", State: "Failed"}
	assertProto(t, "request", want, rec.only(t))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows, got:\n%s", r.stdout)
	}
	assertContains(t, "header", lines[0], "NAME", "MODEL", "PROTOCOL", "STATUS", "MESSAGE", "BASE URL")
	assertContains(t, "failed row", lines[1], "broken", "meta/llama-3.1-8b-instruct", "Failed", "401 Unauthorized", "…", "https://api.openai.com")
	if strings.Contains(lines[1], "rotate it") {
		t.Errorf("long message was not truncated: %s", lines[1])
	}

	r = e.run(t, "", "-o", "json", "services", "list")
	assertCode(t, r, ExitOK)
	var got pb.ListServicesResponse
	if err := protojson.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("-o json is not protojson: %v\n%s", err, r.stdout)
	}
	assertProto(t, "json output", listFixture(), &got)
}

func TestListEmpty(t *testing.T) {
	e := newTestEnv(t)
	serveFake(t, e, contract.SubjServicesList, func() *pb.ListServicesRequest { return &pb.ListServicesRequest{} },
		replyWith[*pb.ListServicesRequest](&pb.ListServicesResponse{}, nil))
	r := e.run(t, "", "services", "list")
	assertCode(t, r, ExitOK)
	assertContains(t, "stdout", r.stdout, "No services registered")
}

func TestGet(t *testing.T) {
	e := newTestEnv(t)
	serveFake(t, e, contract.SubjServicesGet, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} },
		func(req *pb.GetServiceRequest) (proto.Message, error) {
			if req.GetName() != "gpt4o" {
				return nil, apierr.Newf(apierr.NotFound, "no service named %q: see `syctl services list`", req.GetName())
			}
			return &pb.GetServiceResponse{Service: readyView("gpt4o")}, nil
		})
	cases := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"found", []string{"gpt4o"}, ExitOK, []string{"Name:", "gpt4o", "Protocol:", "OPENAI_V1", "Status:", "Ready", "Key verified:", "yes"}},
		{"json", []string{"gpt4o", "-o", "json"}, ExitOK, []string{`"base_url": "https://api.openai.com"`}},
		{"not found", []string{"nope"}, ExitError, []string{`error: no service named "nope": see ` + "`syctl services list`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", append([]string{"services", "get"}, tc.args...)...)
			assertCode(t, r, tc.code)
			assertContains(t, "output", r.all(), tc.wants...)
		})
	}
}

func TestUpdate(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjServicesUpdate, func() *pb.UpdateServiceRequest { return &pb.UpdateServiceRequest{} },
		func(req *pb.UpdateServiceRequest) (proto.Message, error) {
			if req.GetModel() != "" || req.GetAllowInsecureTls() {
				return nil, apierr.Field("model", "Model name is create-only and cannot be changed after registration. "+
					"To change it, deregister the service and register it again.")
			}
			return &pb.UpdateServiceResponse{Service: readyView(req.GetName())}, nil
		})
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		want        *pb.UpdateServiceRequest
		output      []string
	}{{
		name: "functions and a new key from stdin", stdin: canaryKey,
		args: []string{"gpt4o", "--function", "chat", "--function", "embeddings", "--api-key", "-"},
		code: ExitOK, output: []string{"updated", "probing upstream with the new key"},
		want: &pb.UpdateServiceRequest{Name: "gpt4o", Functions: []string{"chat", "embeddings"}, Credential: valueKey(canaryKey),
			UpdateMask: []string{"functions", "credential"}},
	}, {
		name: "empty tag clears the tags",
		args: []string{"gpt4o", "--tag", ""},
		code: ExitOK, output: []string{"updated"},
		want: &pb.UpdateServiceRequest{Name: "gpt4o", UpdateMask: []string{"tags"}},
	}, {
		name: "create-only fields pass through and are refused by name",
		args: []string{"gpt4o", "--model", "gpt-4.1", "--base-url", "https://other", "--protocol", "GEMINI_V1_BETA", "--allow-insecure-tls"},
		code: ExitError, output: []string{"error: Model name is create-only", "deregister the service", "field: model"},
		want: &pb.UpdateServiceRequest{Name: "gpt4o", Model: "gpt-4.1", BaseUrl: "https://other", Protocol: "GEMINI_V1_BETA",
			AllowInsecureTls: true, UpdateMask: []string{"model", "base_url", "protocol", "allow_insecure_tls"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.requests())
			r := e.run(t, tc.stdin, append([]string{"services", "update"}, tc.args...)...)
			assertCode(t, r, tc.code)
			got := rec.requests()
			if len(got) != before+1 {
				t.Fatalf("fake received %d new requests, want 1", len(got)-before)
			}
			assertProto(t, "request", tc.want, got[before])
			assertContains(t, "output", r.all(), tc.output...)
			if strings.Contains(r.all(), canaryKey) {
				t.Errorf("the API key was printed:\n%s", r.all())
			}
		})
	}
}

func TestDeregister(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjServicesDeregister, func() *pb.DeregisterServiceRequest { return &pb.DeregisterServiceRequest{} },
		func(req *pb.DeregisterServiceRequest) (proto.Message, error) {
			if req.GetName() == "aliased" {
				return nil, apierr.New(apierr.FailedPrecondition, `service "aliased" is referenced by model alias "fast"; remove the reference first`)
			}
			return &pb.DeregisterServiceResponse{Name: req.GetName()}, nil
		})
	r := e.run(t, "", "services", "deregister", "gpt4o")
	assertCode(t, r, ExitOK)
	assertContains(t, "stdout", r.stdout, `Deregistered service "gpt4o"`)
	if got := rec.only(t).GetName(); got != "gpt4o" {
		t.Errorf("deregistered %q, want gpt4o", got)
	}

	r = e.run(t, "", "services", "deregister", "aliased")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, `referenced by model alias "fast"`)
	if strings.Contains(r.stderr, "field:") {
		t.Errorf("an error without a field printed one:\n%s", r.stderr)
	}
}

func TestRegisterProgressHidesURLPassword(t *testing.T) {
	e := newTestEnv(t)
	serveFake(t, e, contract.SubjServicesRegister, func() *pb.RegisterServiceRequest { return &pb.RegisterServiceRequest{} },
		replyWith[*pb.RegisterServiceRequest](nil, apierr.Field("base_url", "Model Base URL must not contain credentials")))
	r := e.run(t, "", "services", "register", "x", "--model", "m", "--protocol", "OPENAI_V1",
		"--base-url", "https://bob:pw-canary@example.com", "--api-key-env", "K")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, "probing upstream https://bob:xxxxx@example.com", "field: base_url")
	if strings.Contains(r.all(), "pw-canary") {
		t.Errorf("the URL password was printed:\n%s", r.all())
	}
}
