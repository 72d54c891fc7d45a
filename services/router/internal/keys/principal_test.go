package keys

import (
	"errors"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
)

// TestAllowsMatrix checks every allow/deny cell of the key × service
// access matrix: the key's own model and service allowances, and a
// service's group and owner-domain policy (seed 001).
func TestAllowsMatrix(t *testing.T) {
	open := &pb.ConsumerKey{Id: "key_open", Owner: "ana@lab.example.org"}
	narrow := &pb.ConsumerKey{Id: "key_narrow", Owner: "bo@corp.example.com", Groups: []string{"research"},
		AllowedModels: []string{"gpt-4o", "fast"}, AllowedServices: []string{"openai-a"}}
	noEmail := &pb.ConsumerKey{Id: "key_team", Owner: "team-x", Groups: []string{"ops", "research"}}

	groups := ServicePolicy{AllowedGroups: []string{"research", "staff"}}
	domains := ServicePolicy{AllowedDomains: []string{"Corp.Example.com"}}
	both := ServicePolicy{AllowedGroups: []string{"research"}, AllowedDomains: []string{"lab.example.org"}}

	cases := []struct {
		name    string
		key     *pb.ConsumerKey
		model   string
		service string
		policy  ServicePolicy
		code    string // "" allowed
	}{
		{"open key, open service", open, "anything", "any-svc", ServicePolicy{}, ""},
		{"open key, group policy, key in no group", open, "m", "s", groups, "group_not_allowed"},
		{"open key, domain policy, other domain", open, "m", "s", domains, "domain_not_allowed"},
		{"open key, both policies, domain ok but no group", open, "m", "s", both, "group_not_allowed"},
		{"narrow key, allowed model and service", narrow, "gpt-4o", "openai-a", ServicePolicy{}, ""},
		{"narrow key, alias in its models", narrow, "fast", "openai-a", ServicePolicy{}, ""},
		{"narrow key, other model", narrow, "gpt-4o-mini", "openai-a", ServicePolicy{}, "model_not_allowed"},
		{"narrow key, other service", narrow, "gpt-4o", "openai-b", ServicePolicy{}, "service_not_allowed"},
		{"narrow key, model denial wins over service", narrow, "other", "openai-b", ServicePolicy{}, "model_not_allowed"},
		{"narrow key, group policy it meets", narrow, "gpt-4o", "openai-a", groups, ""},
		{"narrow key, domain policy case-insensitive", narrow, "gpt-4o", "openai-a", domains, ""},
		{"narrow key, both policies, group ok domain not", narrow, "gpt-4o", "openai-a", both, "domain_not_allowed"},
		{"owner without email, domain policy", noEmail, "m", "s", domains, "domain_not_allowed"},
		{"owner without email, group policy via second group", noEmail, "m", "s", groups, ""},
		{"anonymous, open service", nil, "m", "s", ServicePolicy{}, ""},
		{"anonymous, group policy", nil, "m", "s", groups, "group_not_allowed"},
		{"anonymous, domain policy", nil, "m", "s", domains, "domain_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Anonymous
			if tc.key != nil {
				p = newPrincipal(tc.key)
			}
			err := p.Allows(tc.model, tc.service, tc.policy)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Allows = %v, want allowed", err)
				}
				return
			}
			var ke *Error
			if !errors.As(err, &ke) || !errors.Is(err, ErrForbidden) || ke.Status != 403 || ke.Code != tc.code {
				t.Fatalf("Allows = %#v, want 403 %s", err, tc.code)
			}
		})
	}
}

func TestAllowsLongListsUseTheSet(t *testing.T) {
	models := []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10"}
	p := newPrincipal(&pb.ConsumerKey{Id: "k", AllowedModels: models})
	if p.models.set == nil {
		t.Fatal("a long list should be hashed")
	}
	for _, m := range models {
		if !p.ModelAllowed(m) {
			t.Errorf("%s refused", m)
		}
	}
	if p.ModelAllowed("m11") {
		t.Error("m11 allowed")
	}
}

func TestScopes(t *testing.T) {
	rec := &pb.ConsumerKey{Id: "key_a", Limits: &pb.Limits{Rpm: 60},
		ModelLimits: map[string]*pb.Limits{"gpt-4o": {Tpm: 1000}, "zero": {}}}
	p := newPrincipal(rec)
	var buf [ratelimit.MaxScopes]ratelimit.Scope
	cases := []struct {
		model string
		want  []ratelimit.Scope
	}{
		{"gpt-4o", []ratelimit.Scope{ratelimit.KeyScope("key_a", ratelimit.Limits{RPM: 60}),
			ratelimit.KeyModelScope("key_a", "gpt-4o", ratelimit.Limits{TPM: 1000})}},
		{"other", []ratelimit.Scope{ratelimit.KeyScope("key_a", ratelimit.Limits{RPM: 60})}},
		{"zero", []ratelimit.Scope{ratelimit.KeyScope("key_a", ratelimit.Limits{RPM: 60})}},
	}
	for _, tc := range cases {
		got := p.Scopes(tc.model, buf[:0])
		if len(got) != len(tc.want) {
			t.Fatalf("%s: scopes %v, want %v", tc.model, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: scope %d = %v, want %v", tc.model, i, got[i], tc.want[i])
			}
		}
	}
	if got := Anonymous.Scopes("gpt-4o", buf[:0]); len(got) != 0 {
		t.Errorf("anonymous has scopes %v", got)
	}
}

func TestOwnerDomain(t *testing.T) {
	for owner, want := range map[string]string{
		"a@B.example": "b.example", "a@b@c.example": "c.example", "team": "", "a@": "", "": "",
	} {
		if got := ownerDomain(owner); got != want {
			t.Errorf("ownerDomain(%q) = %q, want %q", owner, got, want)
		}
	}
}
