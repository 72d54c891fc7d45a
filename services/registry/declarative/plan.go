package declarative

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/registry/internal/validate"
)

// API is the registry as the planner needs it: its admin operations and a
// read of where a stored credential comes from (never its value). The
// registry implements it in-process; syctl over NATS.
type API interface {
	ListServices(ctx context.Context) ([]*pb.Service, error)
	Register(ctx context.Context, req *pb.RegisterServiceRequest) error
	Update(ctx context.Context, req *pb.UpdateServiceRequest) error
	Deregister(ctx context.Context, name string) error
	ListAliases(ctx context.Context) ([]*pb.ModelAlias, error)
	PutAlias(ctx context.Context, a *pb.ModelAlias) error
	DeleteAlias(ctx context.Context, name string) error
	// CredentialSource describes the stored credential ref: its kind and,
	// for env and file, the variable or path (found false when missing).
	CredentialSource(ctx context.Context, ref string) (src StoredSource, found bool, err error)
}

// StoredSource is a stored credential's origin without its value.
type StoredSource struct {
	Kind string `json:"source"` // value, env or file
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// DecodeStoredSource reads the origin fields of a sy_credentials record
// (the credential service's JSON record); the sealed key is not decoded.
func DecodeStoredSource(record []byte) (StoredSource, error) {
	var s StoredSource
	err := json.Unmarshal(record, &s)
	return s, err
}

// Verb is what an action does.
type Verb string

// The verbs, in the order a plan runs them: services first (new ones must
// exist before an alias points at them), then aliases, then removals (a
// service leaves only after no alias points at it any more).
const (
	VerbRegister    Verb = "register"
	VerbUpdate      Verb = "update"
	VerbPutAlias    Verb = "put-alias"
	VerbDeleteAlias Verb = "delete-alias"
	VerbDeregister  Verb = "deregister"
)

// Action is one change.
type Action struct {
	Verb Verb
	Name string
	// Changes lists what differs, for the diff ("tags: [a] -> [a b]").
	Changes  []string
	added    bool // a put-alias that creates the alias
	register *pb.RegisterServiceRequest
	update   *pb.UpdateServiceRequest
	alias    *pb.ModelAlias
}

// Plan is the ordered actions and the declared changes that cannot be
// applied (a create-only field changed).
type Plan struct {
	Actions []Action
	Refused []string
}

// Empty reports whether applying would change nothing.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 && len(p.Refused) == 0 }

// Diff renders the plan for a person, one line per action ("+" add, "~"
// change, "-" remove, "!" refused), with no key values in it.
func (p *Plan) Diff() string {
	if p.Empty() {
		return "no changes\n"
	}
	var b strings.Builder
	for _, a := range p.Actions {
		mark := map[Verb]string{VerbRegister: "+", VerbUpdate: "~", VerbPutAlias: "~", VerbDeleteAlias: "-", VerbDeregister: "-"}[a.Verb]
		kind := "service"
		if a.Verb == VerbPutAlias || a.Verb == VerbDeleteAlias {
			kind = "alias"
			if a.added {
				mark = "+"
			}
		}
		fmt.Fprintf(&b, "%s %s %s", mark, kind, a.Name)
		if len(a.Changes) > 0 {
			fmt.Fprintf(&b, ": %s", strings.Join(a.Changes, "; "))
		}
		b.WriteByte('\n')
	}
	for _, r := range p.Refused {
		fmt.Fprintf(&b, "! %s\n", r)
	}
	return b.String()
}

// Planner compares a config with the registry. It remembers the SHA-256 of
// the inline keys it applied (in memory only) so a changed inline key is
// noticed within one process; env and file sources are compared by name.
type Planner struct {
	API    API
	inline map[string][32]byte
}

// Plan computes the actions that make the registry match c.
func (p *Planner) Plan(ctx context.Context, c *Config) (*Plan, error) {
	current, err := p.API.ListServices(ctx)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	aliases, err := p.API.ListAliases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	byName := map[string]*pb.Service{}
	for _, s := range current {
		byName[s.GetName()] = s
	}
	plan := &Plan{}
	for _, s := range c.Services {
		if err := p.planService(ctx, plan, c, s, byName[s.Name]); err != nil {
			return nil, err
		}
	}
	planAliases(plan, c, aliases, byName)
	planRemovals(plan, c, current)
	slices.SortStableFunc(plan.Actions, func(a, b Action) int { return verbOrder(a.Verb) - verbOrder(b.Verb) })
	return plan, nil
}

func verbOrder(v Verb) int {
	return slices.Index([]Verb{VerbRegister, VerbUpdate, VerbPutAlias, VerbDeleteAlias, VerbDeregister}, v)
}

func (p *Planner) planService(ctx context.Context, plan *Plan, c *Config, s Service, cur *pb.Service) error {
	cred, _ := c.source(s) // checked by Parse
	groups, domains := accessOf(s)
	want := &pb.Service{
		Name: s.Name, Model: s.Model, BaseUrl: s.BaseURL, Protocol: s.Protocol, Namespace: s.Namespace,
		Functions: trimmed(s.Functions), Tags: withManagedTag(trimmed(s.Tags)), AllowInsecureTls: s.AllowInsecureTLS,
		AzureDeployment: s.AzureDeployment, AzureApiVersion: s.AzureAPIVersion,
		AllowedGroups: groups, AllowedDomains: domains, Limits: limitsOf(s),
	}
	if cur == nil {
		plan.Actions = append(plan.Actions, Action{Verb: VerbRegister, Name: s.Name,
			Changes:  []string{fmt.Sprintf("model %s at %s (%s), key from %s", s.Model, s.BaseURL, s.Protocol, cred.describe())},
			register: &pb.RegisterServiceRequest{Service: want, Credential: cred.proto()}})
		return nil
	}
	if !slices.Contains(cur.GetTags(), ManagedTag) {
		plan.Refused = append(plan.Refused, fmt.Sprintf("service %s exists and was not registered by a config file; rename it in the file or deregister it first", s.Name))
		return nil
	}
	if diffs := createOnlyDiffs(cur, want); len(diffs) > 0 {
		plan.Refused = append(plan.Refused, fmt.Sprintf(
			"service %s: %s changed, and that is create-only; declare the new definition under a new name and point the alias at it (no request fails), then remove this one",
			s.Name, strings.Join(diffs, ", ")))
		return nil
	}
	up := &pb.UpdateServiceRequest{Name: s.Name}
	var changes []string
	if !slices.Equal(sorted(cur.GetFunctions()), sorted(want.GetFunctions())) {
		up.Functions, up.UpdateMask = want.GetFunctions(), append(up.UpdateMask, "functions")
		changes = append(changes, fmt.Sprintf("functions %v -> %v", cur.GetFunctions(), want.GetFunctions()))
	}
	if !slices.Equal(sorted(cur.GetTags()), sorted(want.GetTags())) {
		up.Tags, up.UpdateMask = want.GetTags(), append(up.UpdateMask, "tags")
		changes = append(changes, fmt.Sprintf("tags %v -> %v", cur.GetTags(), want.GetTags()))
	}
	changes = append(changes, planAccess(up, cur, want)...)
	changed, what, err := p.credentialChanged(ctx, s.Name, cur.GetCredentialRef(), cred)
	if err != nil {
		return err
	}
	if changed {
		up.Credential, up.UpdateMask = cred.proto(), append(up.UpdateMask, "credential")
		changes = append(changes, what)
	}
	if len(up.UpdateMask) > 0 {
		plan.Actions = append(plan.Actions, Action{Verb: VerbUpdate, Name: s.Name, Changes: changes, update: up})
	}
	return nil
}

// planAccess adds the access policy and limits that differ to up and
// describes them.
func planAccess(up *pb.UpdateServiceRequest, cur, want *pb.Service) []string {
	var changes []string
	if !slices.Equal(sorted(cur.GetAllowedGroups()), sorted(want.GetAllowedGroups())) {
		up.AllowedGroups, up.UpdateMask = want.GetAllowedGroups(), append(up.UpdateMask, validate.FieldAllowedGroups)
		changes = append(changes, fmt.Sprintf("allowed groups %v -> %v", cur.GetAllowedGroups(), want.GetAllowedGroups()))
	}
	if !slices.Equal(sorted(cur.GetAllowedDomains()), sorted(want.GetAllowedDomains())) {
		up.AllowedDomains, up.UpdateMask = want.GetAllowedDomains(), append(up.UpdateMask, validate.FieldAllowedDomains)
		changes = append(changes, fmt.Sprintf("allowed domains %v -> %v", cur.GetAllowedDomains(), want.GetAllowedDomains()))
	}
	c, w := cur.GetLimits(), want.GetLimits()
	if c.GetRpm() != w.GetRpm() || c.GetTpm() != w.GetTpm() {
		// An empty Limits under the mask clears them.
		up.Limits, up.UpdateMask = &pb.Limits{Rpm: w.GetRpm(), Tpm: w.GetTpm()}, append(up.UpdateMask, validate.FieldLimits)
		changes = append(changes, fmt.Sprintf("limits rpm %d tpm %d -> rpm %d tpm %d", c.GetRpm(), c.GetTpm(), w.GetRpm(), w.GetTpm()))
	}
	return changes
}

// accessOf is s's access policy as the registry stores it (lower-case),
// so an unchanged file plans no update. A list the registry would refuse
// is passed on as written: the registry's refusal names the field.
func accessOf(s Service) (groups, domains []string) {
	g, d, err := validate.AccessPolicy(s.AllowedGroups, s.AllowedDomains)
	if err != nil {
		return s.AllowedGroups, s.AllowedDomains
	}
	return g, d
}

func limitsOf(s Service) *pb.Limits {
	if s.RPM == 0 && s.TPM == 0 {
		return nil
	}
	return &pb.Limits{Rpm: s.RPM, Tpm: s.TPM}
}

func (p *Planner) credentialChanged(ctx context.Context, service, ref string, want Credential) (bool, string, error) {
	stored, found, err := p.API.CredentialSource(ctx, ref)
	if err != nil {
		return false, "", fmt.Errorf("read credential of %s: %w", service, err)
	}
	was := "nothing"
	if found {
		was = Credential{Env: stored.Env, File: stored.File, Value: map[bool]string{true: "x"}[stored.Kind == "value"]}.describe()
	}
	if want.Value != "" {
		h := sha256.Sum256([]byte(want.Value))
		known, seen := p.inline[service]
		if found && stored.Kind == "value" && (!seen || known == h) {
			p.remember(service, h)
			return false, "", nil
		}
		return true, fmt.Sprintf("key %s -> new inline value", was), nil
	}
	if found && stored.Kind != "value" && stored.Env == want.Env && stored.File == want.File {
		return false, "", nil
	}
	return true, fmt.Sprintf("key %s -> %s", was, want.describe()), nil
}

func (p *Planner) remember(service string, h [32]byte) {
	if p.inline == nil {
		p.inline = map[string][32]byte{}
	}
	p.inline[service] = h
}

// createOnlyDiffs names the create-only fields that differ. Base URLs and
// protocols are compared the way the registry stores them.
func createOnlyDiffs(cur, want *pb.Service) []string {
	var out []string
	add := func(field, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s (%q -> %q)", field, a, b))
		}
	}
	add("model", cur.GetModel(), want.GetModel())
	add("base_url", cur.GetBaseUrl(), strings.TrimRight(want.GetBaseUrl(), "/"))
	add("protocol", cur.GetProtocol(), strings.ToUpper(strings.TrimSpace(want.GetProtocol())))
	add("namespace", cur.GetNamespace(), want.GetNamespace())
	add("azure_deployment", cur.GetAzureDeployment(), want.GetAzureDeployment())
	add("allow_insecure_tls", fmt.Sprint(cur.GetAllowInsecureTls()), fmt.Sprint(want.GetAllowInsecureTls()))
	return out
}

func planAliases(plan *Plan, c *Config, current []*pb.ModelAlias, services map[string]*pb.Service) {
	byName := map[string]*pb.ModelAlias{}
	for _, a := range current {
		byName[a.GetName()] = a
	}
	declared := map[string]bool{}
	for _, a := range c.Aliases {
		declared[a.Name] = true
		want := &pb.ModelAlias{Name: a.Name, ModelFrom: a.ModelFrom}
		for _, t := range a.Targets {
			want.Targets = append(want.Targets, &pb.AliasTarget{Service: t.Service, Weight: t.Weight})
		}
		cur, ok := byName[a.Name]
		if ok && sameAlias(cur, want) {
			continue
		}
		change := "-> " + describeTargets(want)
		if ok {
			change = describeTargets(cur) + " -> " + describeTargets(want)
		}
		plan.Actions = append(plan.Actions, Action{Verb: VerbPutAlias, Name: a.Name, Changes: []string{change}, alias: want, added: !ok})
	}
	for _, a := range current {
		if !declared[a.GetName()] && allManaged(a, services) {
			plan.Actions = append(plan.Actions, Action{Verb: VerbDeleteAlias, Name: a.GetName(), Changes: []string{describeTargets(a)}})
		}
	}
}

// allManaged reports whether every target of a is a config-managed service:
// such an alias belongs to the config and goes when the file drops it.
func allManaged(a *pb.ModelAlias, services map[string]*pb.Service) bool {
	for _, t := range a.GetTargets() {
		if s, ok := services[t.GetService()]; !ok || !slices.Contains(s.GetTags(), ManagedTag) {
			return false
		}
	}
	return len(a.GetTargets()) > 0
}

func planRemovals(plan *Plan, c *Config, current []*pb.Service) {
	declared := map[string]bool{}
	for _, s := range c.Services {
		declared[s.Name] = true
	}
	for _, s := range current {
		if !declared[s.GetName()] && slices.Contains(s.GetTags(), ManagedTag) {
			plan.Actions = append(plan.Actions, Action{Verb: VerbDeregister, Name: s.GetName(), Changes: []string{"no longer in the file"}})
		}
	}
}

func sameAlias(a, b *pb.ModelAlias) bool {
	return a.GetModelFrom() == b.GetModelFrom() && describeTargets(a) == describeTargets(b)
}

func describeTargets(a *pb.ModelAlias) string {
	parts := make([]string, len(a.GetTargets()))
	for i, t := range a.GetTargets() {
		parts[i] = fmt.Sprintf("%s=%d", t.GetService(), max(t.GetWeight(), 1))
	}
	s := "[" + strings.Join(parts, " ") + "]"
	if a.GetModelFrom() != "" {
		s += " model from " + a.GetModelFrom()
	}
	return s
}

func sorted(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}

func (cred Credential) proto() *pb.CredentialSource {
	switch {
	case cred.Env != "":
		return &pb.CredentialSource{Source: &pb.CredentialSource_Env{Env: cred.Env}}
	case cred.File != "":
		return &pb.CredentialSource{Source: &pb.CredentialSource_File{File: cred.File}}
	}
	return &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: cred.Value}}
}
