package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

func fastRefresh(c *gatewayapp.Config) {
	c.Healthcheck.Refresh.Interval = time.Second
	c.Healthcheck.Refresh.Jitter = 10 * time.Millisecond
}

// TestRegistryUnresolvableCredentialStatus: a key that stops resolving — an
// environment variable unset, a key file removed — turns the service
// Failed with a message saying exactly that, instead of a silent skip.
func TestRegistryUnresolvableCredentialStatus(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{Configure: fastRefresh})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	const envVar = "SY_E2E_REGISTRY_KEY"
	t.Setenv(envVar, providerKey)
	keyFile := filepath.Join(t.TempDir(), "key")
	writeFileAtomically(t, keyFile, providerKey)
	syctl(t, g, "", "services", "register", "env-svc", "--model", model, "--base-url", up.URL, "--protocol", "OPENAI_V1", "--api-key-env", envVar)
	syctl(t, g, "", "services", "register", "file-svc", "--model", model, "--base-url", up.URL, "--protocol", "OPENAI_V1", "--api-key-file", keyFile)

	if err := os.Unsetenv(envVar); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ service, want string }{
		{"env-svc", "credential unresolvable: environment variable " + envVar + " is not set"},
		{"file-svc", "credential unresolvable: key file " + keyFile + " cannot be read"},
	} {
		harness.Eventually(t, 5*time.Second, tt.service+" Failed with the reason", func() bool {
			st := registryStatusOf(t, g, tt.service)
			return st.GetState() == "Failed" && strings.Contains(st.GetMessage(), tt.want)
		})
	}
	out := syctl(t, g, "", "services", "list", "--status", "failed")
	if !strings.Contains(out, "env-svc") || !strings.Contains(out, "file-svc") || !strings.Contains(out, "credential unresolvable") {
		t.Fatalf("services list does not show the failures:\n%s", out)
	}
}

// TestRegistryUndecryptableAfterMasterKeyDropped restarts the credential
// service without the master key that wrapped a stored key: the service's
// status says the key cannot be decrypted.
func TestRegistryUndecryptableAfterMasterKeyDropped(t *testing.T) {
	dir := t.TempDir()
	keysA, keysB := filepath.Join(dir, "a.keys"), filepath.Join(dir, "b.keys")
	for path, id := range map[string]string{keysA: "mk-a", keysB: "mk-b"} {
		if err := os.WriteFile(path, []byte(id+":"+base64.StdEncoding.EncodeToString([]byte((rand.Text() + rand.Text())[:32]))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, common := gatewayConfig(t, fastRefresh)
	cfg.Credential.MasterKeysFile = keysA
	log := discardLogger()
	g := startGateway(t, cfg, common, log, []string{"registry", "healthcheck", "router", "metering"})
	credCfg := cfg
	credCfg.Targets, credCfg.EmbedNATS = []string{"credential"}, false
	common.NATS.URL = g.NATSURL
	_, stopA := startTargets(t, credCfg, common, log)

	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	registerWithSyctl(t, g, "openai-main", up.URL, providerKey)
	stopA()
	credCfg.Credential.MasterKeysFile = keysB
	runTargets(t, credCfg, common, log)
	harness.Eventually(t, 10*time.Second, "status says undecryptable", func() bool {
		st := registryStatusOf(t, g, "openai-main")
		return st.GetState() == "Failed" && strings.Contains(st.GetMessage(), "credential unresolvable") &&
			strings.Contains(st.GetMessage(), "cannot be decrypted")
	})
	t.Log(registryStatusOf(t, g, "openai-main").GetMessage())
}
