package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

const configTemplate = `
[credentials.upstream]
env = "SY_E2E_CONFIG_KEY"

[[services]]
name = "blue"
model = "gpt-4o-mini"
base_url = "BLUE_URL"
protocol = "OPENAI_V1"
functions = ["chat"]
credential = "upstream"

[[services]]
name = "green"
model = "gpt-4o-mini-2024-07-18"
base_url = "GREEN_URL"
protocol = "OPENAI_V1"
functions = ["chat"]
credential = "upstream"

[[aliases]]
name = "team-chat"
targets = [{ service = "TARGET" }]
`

// TestRegistryConfigHotReload starts the gateway with -registry.config-file,
// checks the file is applied, that re-saving it unchanged writes and probes
// nothing, that a dry run prints the diff and changes nothing, and that
// repointing the alias in the file moves traffic with no failed request.
func TestRegistryConfigHotReload(t *testing.T) {
	t.Setenv("SY_E2E_CONFIG_KEY", providerKey)
	blue := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{"gpt-4o-mini"}, Text: "blue"})
	green := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{"gpt-4o-mini-2024-07-18"}, Text: "green"})
	render := func(target string) string {
		return strings.NewReplacer("BLUE_URL", blue.URL, "GREEN_URL", green.URL, "TARGET", target).Replace(configTemplate)
	}
	path := filepath.Join(t.TempDir(), "switchyard.toml")
	writeFileAtomically(t, path, render("blue"))
	g := harness.Start(t, harness.AllInOne, harness.Options{Configure: func(c *gatewayapp.Config) {
		c.Registry.ConfigFile, c.Registry.ConfigPollInterval = path, 50*time.Millisecond
	}})
	harness.Eventually(t, 10*time.Second, "config applied", func() bool { return aliasTargets(g, "team-chat") == "blue" })
	out := syctl(t, g, "", "services", "list")
	if !strings.Contains(out, "blue") || !strings.Contains(out, "green") {
		t.Fatalf("services from the file missing:\n%s", out)
	}

	// A dry run of a change shows it and changes nothing.
	next := filepath.Join(filepath.Dir(path), "next.toml")
	if err := os.WriteFile(next, []byte(render("green")), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := syctl(t, g, "", "apply", "-f", next, "--dry-run"); !strings.Contains(d, "~ alias team-chat: [blue=1] -> [green=1]") {
		t.Fatalf("dry run diff:\n%s", d)
	}
	if d := syctl(t, g, "", "apply", "-f", path, "--dry-run"); strings.TrimSpace(d) != "no changes" {
		t.Fatalf("dry run of the applied file: %q", d)
	}

	// Re-saved with only a comment, then edited: the reloader handles the
	// two in order, so once the edit is live the re-save has been seen. It
	// must have written nothing and probed nothing; the edit is one alias
	// write.
	revs, probes := bucketSeq(t, g), blue.Count("/v1/models/gpt-4o-mini")+green.Count("/v1/models/gpt-4o-mini-2024-07-18")
	writeFileAtomically(t, path, "# touched\n"+render("blue"))
	writeFileAtomically(t, path, render("green"))
	harness.Eventually(t, 5*time.Second, "edit applied", func() bool { return aliasTargets(g, "team-chat") == "green" })
	if now := bucketSeq(t, g); now != [3]uint64{revs[0], revs[1] + 1, revs[2]} {
		t.Fatalf("bucket sequences (services, routes, credentials) %v -> %v, want only one alias write", revs, now)
	}
	if now := blue.Count("/v1/models/gpt-4o-mini") + green.Count("/v1/models/gpt-4o-mini-2024-07-18"); now != probes {
		t.Fatalf("an alias edit probed upstreams: %d -> %d", probes, now)
	}

	// Repoint the model back under traffic.
	harness.Eventually(t, 5*time.Second, "the edge routes alias team-chat", func() bool { return chatOK(g, "team-chat") })
	tr := startTraffic(g, "team-chat", 2)
	harness.Eventually(t, 5*time.Second, "traffic on green", func() bool { return tr.ok.Load() > 10 })
	before := blue.Count("/v1/chat/completions")
	writeFileAtomically(t, path, render("blue"))
	edited := time.Now()
	harness.Eventually(t, 5*time.Second, "traffic moved to blue", func() bool { return blue.Count("/v1/chat/completions") > before })
	t.Logf("alias switched at the edge %v after the file changed", time.Since(edited))
	tr.finish(t)
}

// TestRegistryConfigAccessPolicy: a config file declares a service's
// access policy and limits; `syctl apply` registers them as the registry
// stores them (an unchanged file then plans nothing), and dropping them
// from the file clears them in place.
func TestRegistryConfigAccessPolicy(t *testing.T) {
	t.Setenv("SY_E2E_CONFIG_KEY", providerKey)
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	service := `
[[services]]
name = "policy-file-svc"
model = "` + model + `"
base_url = "` + up.URL + `"
protocol = "OPENAI_V1"
api_key_env = "SY_E2E_CONFIG_KEY"
`
	path := filepath.Join(t.TempDir(), "switchyard.toml")
	writeFileAtomically(t, path, service+"allowed_domains = [\"@Lab.Example\"]\nallowed_groups = [\"Research\"]\nrpm = 5\ntpm = 1000\n")
	syctl(t, g, "", "apply", "-f", path)
	svc := getService(t, g, "policy-file-svc")
	if strings.Join(svc.GetAllowedDomains(), ",") != "lab.example" || strings.Join(svc.GetAllowedGroups(), ",") != "research" ||
		svc.GetLimits().GetRpm() != 5 || svc.GetLimits().GetTpm() != 1000 {
		t.Fatalf("policy from the file not registered: %v", svc)
	}
	if d := syctl(t, g, "", "apply", "-f", path, "--dry-run"); strings.TrimSpace(d) != "no changes" {
		t.Fatalf("dry run of the applied file: %q", d)
	}
	writeFileAtomically(t, path, service)
	syctl(t, g, "", "apply", "-f", path)
	svc = getService(t, g, "policy-file-svc")
	if len(svc.GetAllowedDomains())+len(svc.GetAllowedGroups()) != 0 || svc.GetLimits() != nil {
		t.Fatalf("policy dropped from the file still set: %v", svc)
	}
}

// aliasTargets is the alias's target services, space-separated ("" when
// it does not exist yet).
func aliasTargets(g *harness.Gateway, name string) string {
	var rep pb.GetAliasResponse
	if err := natsCall(context.Background(), g, contract.SubjAliasesGet, &pb.GetAliasRequest{Name: name}, &rep); err != nil {
		return ""
	}
	var out []string
	for _, t := range rep.GetAlias().GetTargets() {
		out = append(out, t.GetService())
	}
	return strings.Join(out, " ")
}

// bucketSeq is the last sequence of the registry-written buckets.
func bucketSeq(t *testing.T, g *harness.Gateway) [3]uint64 {
	t.Helper()
	var out [3]uint64
	for i, b := range []string{contract.BucketServices, contract.BucketRoutes, contract.BucketCredentials} {
		s, err := g.JS.Stream(t.Context(), "KV_"+b)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = info.State.LastSeq
	}
	return out
}

// TestRegistryConfigImportsConnectors points the config file at a
// connectors TOML (seed 000's format): each internal model name is live at
// the edge as an alias of a service serving the external model.
func TestRegistryConfigImportsConnectors(t *testing.T) {
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{"o3-mini"}})
	dir := t.TempDir()
	connectors := "[openai]\nbase_url = \"" + up.URL + "/v1\"\napi_key = \"" + providerKey + "\"\n[openai.o3]\ninternal = \"o3-mini-do-not-use\"\nexternal = \"o3-mini\"\n"
	writeFileAtomically(t, filepath.Join(dir, "connectors.toml"), connectors)
	cfg := filepath.Join(dir, "switchyard.toml")
	writeFileAtomically(t, cfg, "[[imports]]\nformat = \"connectors\"\npath = \"connectors.toml\"\nallow_inline_secrets = true\n")
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	out := syctl(t, g, "", "apply", "-f", cfg)
	for _, w := range []string{"+ service openai-o3: model o3-mini at " + up.URL + " (OPENAI_V1), key from inline value", "+ alias o3-mini-do-not-use", "applied 2 of 2"} {
		if !strings.Contains(out, w) {
			t.Fatalf("apply output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, providerKey) {
		t.Fatal("apply printed the connectors file's key")
	}
	if got := syctl(t, g, "", "services", "get", "openai-o3"); !strings.Contains(got, up.URL+"\n") || strings.Contains(got, up.URL+"/v1") {
		t.Fatalf("imported service keeps a /v1 base URL:\n%s", got)
	}
	if strings.TrimSpace(syctl(t, g, "", "apply", "-f", cfg)) != "no changes" {
		t.Fatal("re-applying the import is not idempotent")
	}
}
