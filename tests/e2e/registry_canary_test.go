package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/secret"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// keyCarriers are the only subjects whose requests may carry a provider
// key: the admin calls that hand one in, and the internal calls that take
// it to the healthcheck probe and the credential service.
var keyCarriers = []string{
	contract.SubjServicesRegister, contract.SubjServicesUpdate,
	contract.SubjHealthProbe, contract.SubjCredentialPut, contract.SubjCredentialResolve,
}

// tap records every message on sy.> and $KV.> while a test runs.
type tap struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func startTap(t *testing.T, nc *nats.Conn) *tap {
	tp := &tap{}
	for _, subject := range []string{"sy.>", "$KV.>"} {
		sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
			tp.mu.Lock()
			tp.msgs = append(tp.msgs, m)
			tp.mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	return tp
}

func (tp *tap) messages() []*nats.Msg {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.msgs)
}

// TestRegistryCanaryKeyNeverLeaks runs the whole lifecycle with canary keys
// and scans every log line, syctl output (admin replies, table and JSON),
// event and KV write seen on the wire, and every stored KV revision, for
// the keys in any form (plain, base64, URL- or JSON-encoded).
func TestRegistryCanaryKeyNeverLeaks(t *testing.T) {
	const canary, canary2, wrongCanary = "sk-CANARY-9d2f71aa", "sk-CANARY-ROTATED-55e0", "sk-CANARY-WRONG-0b7c"
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, common := gatewayConfig(t, nil)
	g := startGateway(t, cfg, common, log)
	tp := startTap(t, g.NC)
	redactor := secret.NewRedactor(secret.New(canary), secret.New(canary2), secret.New(wrongCanary))
	leaks := func(where, text string) {
		t.Helper()
		if redactor.Redact(text) != text {
			t.Errorf("a canary key leaked into %s: %.300s", where, redactor.Redact(text))
		}
	}

	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: canary, Models: []string{model}})
	var outputs []string
	run := func(stdin string, args ...string) { outputs = append(outputs, syctl(t, g, stdin, args...)) }
	outputs = append(outputs, syctlFails(t, g, wrongCanary+"\n", "services", "register", "openai-main", "--model", model,
		"--base-url", up.URL, "--protocol", "OPENAI_V1", "--api-key", "-"))
	run(canary+"\n", "services", "register", "openai-main", "--model", model, "--base-url", up.URL, "--protocol", "OPENAI_V1", "--api-key", "-")
	for _, o := range []string{"table", "json"} {
		run("", "services", "get", "openai-main", "-o", o)
		run("", "services", "list", "-o", o)
	}
	harness.Eventually(t, time.Second, "route live", func() bool { return edgeHasModel(g, model) })
	chatOnce(t, g, model)
	outputs = append(outputs, syctlFails(t, g, wrongCanary+"\n", "services", "update", "openai-main", "--api-key", "-"))
	up.Update(func(c *fakes.Config) { c.APIKey = canary2 })
	run(canary2+"\n", "services", "update", "openai-main", "--api-key", "-", "-o", "json")
	run("", "aliases", "put", "chat", "--target", "openai-main", "-o", "json")
	harness.Eventually(t, time.Second, "rotated key in use", func() bool {
		last, ok := up.LastRequest()
		return ok && last.Header.Get("Authorization") == "Bearer "+canary2 || chatOK(g, model)
	})

	for i, out := range outputs {
		leaks(fmt.Sprintf("syctl output %d", i), out)
	}
	for _, m := range tp.messages() {
		if !slices.Contains(keyCarriers, m.Subject) {
			leaks("message on "+m.Subject, string(m.Data))
		}
	}
	scanStoredKV(t, g, leaks)
	run("", "aliases", "delete", "chat")
	run("", "services", "deregister", "openai-main")
	leaks("logs", logs.String())
	if len(tp.messages()) < 10 || !strings.Contains(logs.String(), "services.register") {
		t.Fatalf("the scan saw too little to prove anything: %d messages, %d log bytes", len(tp.messages()), len(logs.String()))
	}
}

// scanStoredKV reads every stored revision of every bucket (their streams
// keep history) and hands each value to leaks.
func scanStoredKV(t *testing.T, g *harness.Gateway, leaks func(where, text string)) {
	t.Helper()
	ctx := context.Background()
	for _, b := range contract.Declare(contract.DefaultOptions()).Buckets {
		s, err := g.JS.Stream(ctx, "KV_"+b.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue // purged
			}
			leaks(fmt.Sprintf("%s revision %d (%s)", b.Bucket, seq, m.Subject), string(m.Data))
		}
	}
}

// TestRegistryCredentialsAtRestHoldNoPlaintext stores keys of every shape
// and checks the raw sy_credentials records: ciphertext only, with no
// plain, base64, base64url or URL-encoded copy of any key.
func TestRegistryCredentialsAtRestHoldNoPlaintext(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	keys := []string{"sk-proj-AtRest+/=?&%20key", "sk-ant-api03-" + strings.Repeat("x", 80), "AIzaSyAtRestGeminiKey_-0123456789"}
	redactor := secret.NewRedactor()
	for i, k := range keys {
		redactor.Add(secret.New(k))
		up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: k, Models: []string{model}})
		registerWithSyctl(t, g, fmt.Sprintf("svc-%d", i), up.URL, k)
	}
	ctx := context.Background()
	kv, err := g.JS.KeyValue(ctx, contract.BucketCredentials)
	if err != nil {
		t.Fatal(err)
	}
	names, err := kv.Keys(ctx)
	if err != nil || len(names) != len(keys) {
		t.Fatalf("%d credential records (%v), want %d", len(names), err, len(keys))
	}
	for _, name := range names {
		e, err := kv.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if v := string(e.Value()); redactor.Redact(v) != v || !strings.Contains(v, `"source":"value"`) {
			t.Errorf("record %s holds a key in some form, or is not a sealed value: %s", name, redactor.Redact(v))
		}
	}
}

func chatOK(g *harness.Gateway, m string) bool {
	resp, err := harness.HTTPClient.Post(g.EdgeURL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"`+m+`","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func chatOnce(t *testing.T, g *harness.Gateway, m string) {
	t.Helper()
	if !chatOK(g, m) {
		t.Fatal("chat through the edge failed")
	}
}
