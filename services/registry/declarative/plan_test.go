package declarative

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// memAPI is an in-memory registry that counts writes; probes are the real
// registry's business and are covered end to end in tests/e2e.
type memAPI struct {
	services map[string]*pb.Service
	creds    map[string]StoredSource
	aliases  map[string]*pb.ModelAlias
	writes   []string
	n        int
}

func newMemAPI() *memAPI {
	return &memAPI{services: map[string]*pb.Service{}, creds: map[string]StoredSource{}, aliases: map[string]*pb.ModelAlias{}}
}

func (m *memAPI) ListServices(context.Context) ([]*pb.Service, error) {
	var out []*pb.Service
	for _, s := range m.services {
		out = append(out, proto.Clone(s).(*pb.Service))
	}
	return out, nil
}

func (m *memAPI) store(name string, src *pb.CredentialSource) string {
	m.n++
	ref := fmt.Sprintf("%s~%d", name, m.n)
	m.creds[ref] = StoredSource{Kind: map[bool]string{true: "env", false: "file"}[src.GetEnv() != ""], Env: src.GetEnv(), File: src.GetFile()}
	if src.GetValue() != "" {
		m.creds[ref] = StoredSource{Kind: "value"}
	}
	return ref
}

func (m *memAPI) Register(_ context.Context, req *pb.RegisterServiceRequest) error {
	m.writes = append(m.writes, "register "+req.GetService().GetName())
	s := proto.Clone(req.GetService()).(*pb.Service)
	s.CredentialRef = m.store(s.GetName(), req.GetCredential())
	m.services[s.GetName()] = s
	return nil
}

func (m *memAPI) Update(_ context.Context, req *pb.UpdateServiceRequest) error {
	m.writes = append(m.writes, "update "+req.GetName()+" "+strings.Join(req.GetUpdateMask(), ","))
	s := m.services[req.GetName()]
	if slices.Contains(req.GetUpdateMask(), "tags") {
		s.Tags = req.GetTags()
	}
	if slices.Contains(req.GetUpdateMask(), "functions") {
		s.Functions = req.GetFunctions()
	}
	if slices.Contains(req.GetUpdateMask(), "credential") {
		s.CredentialRef = m.store(s.GetName(), req.GetCredential())
	}
	if slices.Contains(req.GetUpdateMask(), "allowed_groups") {
		s.AllowedGroups = req.GetAllowedGroups()
	}
	if slices.Contains(req.GetUpdateMask(), "allowed_domains") {
		s.AllowedDomains = req.GetAllowedDomains()
	}
	if slices.Contains(req.GetUpdateMask(), "limits") {
		s.Limits = req.GetLimits()
		if s.Limits.GetRpm() == 0 && s.Limits.GetTpm() == 0 {
			s.Limits = nil // as the registry stores "no limits"
		}
	}
	return nil
}

func (m *memAPI) Deregister(_ context.Context, name string) error {
	m.writes = append(m.writes, "deregister "+name)
	delete(m.services, name)
	return nil
}

func (m *memAPI) ListAliases(context.Context) ([]*pb.ModelAlias, error) {
	var out []*pb.ModelAlias
	for _, a := range m.aliases {
		out = append(out, a)
	}
	return out, nil
}

func (m *memAPI) PutAlias(_ context.Context, a *pb.ModelAlias) error {
	m.writes = append(m.writes, "put-alias "+a.GetName())
	m.aliases[a.GetName()] = a
	return nil
}

func (m *memAPI) DeleteAlias(_ context.Context, name string) error {
	m.writes = append(m.writes, "delete-alias "+name)
	delete(m.aliases, name)
	return nil
}

func (m *memAPI) CredentialSource(_ context.Context, ref string) (StoredSource, bool, error) {
	s, ok := m.creds[ref]
	return s, ok, nil
}

const baseConfig = `
[credentials.openai]
env = "OPENAI_API_KEY"
[[services]]
name = "gpt-a"
model = "gpt-4o"
base_url = "https://api.openai.com"
protocol = "OPENAI_V1"
functions = ["chat"]
credential = "openai"
[[services]]
name = "gpt-b"
model = "gpt-4o-2024-11-20"
base_url = "https://api.openai.com"
protocol = "OPENAI_V1"
credential = "openai"
[[aliases]]
name = "gpt"
targets = [{ service = "gpt-a" }]
`

// apply parses text, plans and applies it, and returns the writes made.
func apply(t *testing.T, p *Planner, m *memAPI, text string) ([]string, *Plan) {
	t.Helper()
	c, err := Parse([]byte(text), ".")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	m.writes = nil
	if err := p.Apply(context.Background(), plan).Err(); err != nil {
		t.Fatal(err)
	}
	return m.writes, plan
}

func TestPlanLifecycle(t *testing.T) {
	m := newMemAPI()
	p := &Planner{API: m}
	steps := []struct {
		name   string
		config string
		writes []string
	}{
		{"first apply registers, then aliases", baseConfig,
			[]string{"register gpt-a", "register gpt-b", "put-alias gpt"}},
		{"unchanged file writes nothing", baseConfig, nil},
		{"alias switch is one write", strings.Replace(baseConfig, `service = "gpt-a"`, `service = "gpt-b"`, 1),
			[]string{"put-alias gpt"}},
		{"tags and key source change", strings.Replace(strings.Replace(baseConfig, `service = "gpt-a"`, `service = "gpt-b"`, 1),
			"functions = [\"chat\"]\ncredential = \"openai\"", "functions = [\"chat\"]\ntags = [\"prod\"]\napi_key_file = \"/run/k\"", 1),
			[]string{"update gpt-a tags,credential"}},
		{"dropping a service removes its alias first", `
[[services]]
name = "gpt-a"
model = "gpt-4o"
base_url = "https://api.openai.com"
protocol = "OPENAI_V1"
functions = ["chat"]
tags = ["prod"]
api_key_file = "/run/k"
`, []string{"delete-alias gpt", "deregister gpt-b"}},
	}
	for _, s := range steps {
		got, plan := apply(t, p, m, s.config)
		if !slices.Equal(got, s.writes) {
			t.Fatalf("%s: writes %q, want %q\ndiff:\n%s", s.name, got, s.writes, plan.Diff())
		}
	}
}

// Access policy and limits are declared like any editable field: sent as
// the registry stores them (lower-case, no '@'), so an unchanged file
// writes nothing, and changed or dropped in place.
func TestPlanAccessPolicyAndLimits(t *testing.T) {
	const svc = `
[[services]]
name = "gpt-a"
model = "gpt-4o"
base_url = "https://api.openai.com"
protocol = "OPENAI_V1"
api_key_env = "OPENAI_API_KEY"
`
	m := newMemAPI()
	p := &Planner{API: m}
	steps := []struct {
		name, extra string
		writes      []string
		groups      []string
		domains     []string
		rpm, tpm    int64
	}{
		{"registered with its policy", "allowed_groups = [\"ML-Team\"]\nallowed_domains = [\"@Lab.Example\"]\nrpm = 60",
			[]string{"register gpt-a"}, []string{"ml-team"}, []string{"lab.example"}, 60, 0},
		{"unchanged, in another case, writes nothing", "allowed_groups = [\"ml-team\"]\nallowed_domains = [\"lab.example\"]\nrpm = 60",
			nil, []string{"ml-team"}, []string{"lab.example"}, 60, 0},
		{"changed in place", "allowed_groups = [\"ml-team\", \"ops\"]\nallowed_domains = [\"lab.example\"]\nrpm = 120\ntpm = 5000",
			[]string{"update gpt-a allowed_groups,limits"}, []string{"ml-team", "ops"}, []string{"lab.example"}, 120, 5000},
		{"dropped", "", []string{"update gpt-a allowed_groups,allowed_domains,limits"}, nil, nil, 0, 0},
	}
	for _, st := range steps {
		got, plan := apply(t, p, m, svc+st.extra+"\n")
		s := m.services["gpt-a"]
		if !slices.Equal(got, st.writes) || !slices.Equal(s.GetAllowedGroups(), st.groups) ||
			!slices.Equal(s.GetAllowedDomains(), st.domains) || s.GetLimits().GetRpm() != st.rpm || s.GetLimits().GetTpm() != st.tpm {
			t.Fatalf("%s: writes %q, stored groups %q domains %q limits %v\ndiff:\n%s", st.name, got,
				s.GetAllowedGroups(), s.GetAllowedDomains(), s.GetLimits(), plan.Diff())
		}
		if st.name == "changed in place" && !strings.Contains(plan.Diff(), "limits rpm 60 tpm 0 -> rpm 120 tpm 5000") {
			t.Errorf("diff does not say what changed:\n%s", plan.Diff())
		}
	}
}

func TestPlanRefusesCreateOnlyChangesAndForeignServices(t *testing.T) {
	m := newMemAPI()
	p := &Planner{API: m}
	apply(t, p, m, baseConfig)
	m.services["hand-made"] = &pb.Service{Name: "hand-made", Model: "x"}
	changed := strings.Replace(baseConfig, `model = "gpt-4o"`, `model = "gpt-4.1"`, 1) + `
[[services]]
name = "hand-made"
model = "x"
base_url = "https://x"
protocol = "OPENAI_V1"
api_key_env = "X"
`
	c, err := Parse([]byte(changed), ".")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	diff := plan.Diff()
	for _, want := range []string{`! service gpt-a: model ("gpt-4o" -> "gpt-4.1") changed, and that is create-only`, "point the alias at it",
		"! service hand-made exists and was not registered by a config file"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if len(plan.Actions) != 0 {
		t.Fatalf("refused changes still planned actions: %s", diff)
	}
}

func TestDiffNeverShowsInlineKeys(t *testing.T) {
	m := newMemAPI()
	p := &Planner{API: m}
	text := "allow_inline_secrets = true\n" + strings.ReplaceAll(baseConfig, `credential = "openai"`, `api_key = "sk-inline-CANARY"`)
	c, err := Parse([]byte(text), ".")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Diff(); strings.Contains(d, "CANARY") || !strings.Contains(d, "key from inline value") {
		t.Fatalf("diff:\n%s", d)
	}
	_ = p.Apply(context.Background(), plan)
	if got, _ := apply(t, p, m, text); len(got) != 0 {
		t.Fatalf("unchanged inline keys rewritten: %q", got)
	}
	if got, _ := apply(t, p, m, strings.Replace(text, "sk-inline-CANARY", "sk-inline-CANARY2", 1)); !slices.Equal(got, []string{"update gpt-a credential"}) {
		t.Fatalf("changed inline key: writes %q", got)
	}
}
