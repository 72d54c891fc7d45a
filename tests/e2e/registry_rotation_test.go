package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// TestRegistryKeyRotationAtTheEdge rotates a service's key with `syctl
// services update --api-key` while requests run: the new key is probed
// first, the upstream sees it within 1 s of the update returning, no
// request fails, and after the old key is revoked at the provider requests
// still succeed (the edge no longer uses it).
func TestRegistryKeyRotationAtTheEdge(t *testing.T) {
	forEachMode(t, func(t *testing.T, g *harness.Gateway) {
		const oldKey, newKey = "sk-rotate-old-1111", "sk-rotate-new-2222"
		up := fakes.Start(t, fakes.OpenAI, fakes.Config{Models: []string{model}})
		gate := newKeyGate(t, up, oldKey)
		registerWithSyctl(t, g, "openai-main", gate.URL, oldKey)
		harness.Eventually(t, time.Second, "route live", func() bool { return edgeHasModel(g, model) })

		tr := startTraffic(g, model, 4)
		harness.Eventually(t, 5*time.Second, "traffic flowing", func() bool { return tr.ok.Load() > 20 })
		if out := syctlFails(t, g, "sk-not-yet-valid\n", "services", "update", "openai-main", "--api-key", "-"); !containsAll(out, "upstream check failed, nothing was changed") {
			t.Fatalf("an unaccepted key was not refused by the probe:\n%s", out)
		}
		gate.allow(newKey) // the provider issued the new key; both work for now
		syctl(t, g, newKey+"\n", "services", "update", "openai-main", "--api-key", "-")
		updated := time.Now()
		harness.Eventually(t, time.Second, "upstream sees the new key", func() bool { return !gate.firstSeen(newKey).IsZero() })
		t.Logf("new key at the upstream %v after the update returned", gate.firstSeen(newKey).Sub(updated))
		harness.Eventually(t, time.Second, "requests routed before the switch drained", func() bool {
			return gate.drained(oldKey, newKey, 100*time.Millisecond)
		})
		gate.revoke(oldKey)
		seen := tr.ok.Load()
		harness.Eventually(t, 5*time.Second, "traffic after revoking the old key", func() bool { return tr.ok.Load() > seen+20 })
		tr.finish(t)
		if n := gate.rejected.Load(); n != 0 {
			t.Fatalf("upstream rejected %d forwarded requests, want 0", n)
		}
	})
}

// TestRegistryKeyFileRotation rotates a key file the way Kubernetes updates
// a mounted Secret (a rename over the path): the credential service sees
// the change, the router re-resolves, and no request fails.
func TestRegistryKeyFileRotation(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{Configure: func(c *gatewayapp.Config) {
		c.Credential.FilePollInterval = 50 * time.Millisecond
	}})
	const oldKey, newKey = "sk-file-old-3333", "sk-file-new-4444"
	path := filepath.Join(t.TempDir(), "api-key")
	writeFileAtomically(t, path, oldKey+"\n")
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{Models: []string{model}})
	gate := newKeyGate(t, up, oldKey, newKey)
	syctl(t, g, "", "services", "register", "file-svc", "--model", model, "--base-url", gate.URL,
		"--protocol", "OPENAI_V1", "--api-key-file", path)
	harness.Eventually(t, time.Second, "route live", func() bool { return edgeHasModel(g, model) })

	tr := startTraffic(g, model, 2)
	harness.Eventually(t, 5*time.Second, "traffic flowing", func() bool { return tr.ok.Load() > 10 })
	writeFileAtomically(t, path, newKey+"\n")
	written := time.Now()
	harness.Eventually(t, 2*time.Second, "upstream sees the key from the new file", func() bool { return !gate.firstSeen(newKey).IsZero() })
	t.Logf("new key at the upstream %v after the file changed", gate.firstSeen(newKey).Sub(written))
	harness.Eventually(t, time.Second, "requests routed before the switch drained", func() bool {
		return gate.drained(oldKey, newKey, 100*time.Millisecond)
	})
	gate.revoke(oldKey)
	seen := tr.ok.Load()
	harness.Eventually(t, 5*time.Second, "traffic after revoking the old key", func() bool { return tr.ok.Load() > seen+10 })
	tr.finish(t)
}
