package e2e

import (
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// TestRegistryUpdatesAccessPolicyAndLimits edits a service's access policy
// and per-service limits through the real syctl and clears them again.
func TestRegistryUpdatesAccessPolicyAndLimits(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	if _, err := register(t, g, "policy-svc", up.URL, providerKey); err != nil {
		t.Fatal(err)
	}
	get := func() *pb.Service { return getService(t, g, "policy-svc") }
	syctl(t, g, "", "services", "update", "policy-svc", "--allow-domain", "Example.COM", "--allow-group", "research", "--rpm", "5", "--tpm", "1000")
	svc := get()
	if len(svc.GetAllowedDomains()) != 1 || svc.GetAllowedDomains()[0] != "example.com" ||
		len(svc.GetAllowedGroups()) != 1 || svc.GetLimits().GetRpm() != 5 || svc.GetLimits().GetTpm() != 1000 {
		t.Fatalf("policy not applied: %v", svc)
	}
	if len(svc.GetFunctions()) != 1 {
		t.Fatalf("unrelated fields changed: %v", svc.GetFunctions())
	}
	syctl(t, g, "", "services", "update", "policy-svc", "--allow-domain", "", "--rpm", "0", "--tpm", "0")
	svc = get()
	if len(svc.GetAllowedDomains()) != 0 || svc.GetLimits().GetRpm() != 0 || len(svc.GetAllowedGroups()) != 1 {
		t.Fatalf("clearing failed: %v", svc)
	}
}
