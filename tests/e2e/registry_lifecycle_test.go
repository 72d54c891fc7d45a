package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

func registerWithSyctl(t *testing.T, g *harness.Gateway, name, baseURL, key string) {
	t.Helper()
	syctl(t, g, key+"\n", "services", "register", name, "--model", model, "--base-url", baseURL,
		"--protocol", "OPENAI_V1", "--api-key", "-", "--function", "chat")
}

func TestRegistryUpdateOfCreateOnlyFieldRefused(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	registerWithSyctl(t, g, "openai-main", up.URL, providerKey)
	before := proto.Clone(getService(t, g, "openai-main")).(*pb.Service)

	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--model", "gpt-4o"}, []string{"Model name is create-only", "deregister the service and register it again"}},
		{[]string{"--base-url", "https://api.openai.com"}, []string{"Model Base URL is create-only", "deregister the service and register it again"}},
		{[]string{"--protocol", "ANTHROPIC_V1"}, []string{"API Protocol Version is create-only", "probes a different endpoint path"}},
		{[]string{"--allow-insecure-tls"}, []string{"Allow Insecure Connection is create-only", "can't toggle it after registration"}},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			out := syctlFails(t, g, "", append([]string{"services", "update", "openai-main", "--tag", "x"}, tt.args...)...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("refusal lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// Without an update_mask (a plain `nats req`), the values are compared.
	err := natsCall(context.Background(), g, contract.SubjServicesUpdate,
		&pb.UpdateServiceRequest{Name: "openai-main", Model: "gpt-4o", Tags: []string{"x"}}, &pb.UpdateServiceResponse{})
	if err == nil || !strings.Contains(err.Error(), `registered "gpt-4o-mini", requested "gpt-4o"`) {
		t.Fatalf("maskless model change: %v", err)
	}
	if after := getService(t, g, "openai-main"); !proto.Equal(before, after) {
		t.Fatalf("a refused update changed the record:\n before %v\n after  %v", before, after)
	}
	out := syctl(t, g, "", "services", "update", "openai-main", "--tag", "prod", "--function", "chat,embeddings")
	if !strings.Contains(out, "prod") || !strings.Contains(out, "embeddings") {
		t.Fatalf("editable fields not updated:\n%s", out)
	}
}

func getService(t *testing.T, g *harness.Gateway, name string) *pb.Service {
	t.Helper()
	var rep pb.GetServiceResponse
	callAdmin(t, g, contract.SubjServicesGet, &pb.GetServiceRequest{Name: name}, &rep)
	return rep.GetService().GetService()
}

func callAdmin(t *testing.T, g *harness.Gateway, subject string, req, rep proto.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := natsCall(ctx, g, subject, req, rep); err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
}

// TestRegistryDeregisterBlockedByReferences: a service named by an alias or
// a live consumer key cannot be deregistered; the refusal names every
// reference, and once they are gone the deregistration removes the record,
// the credential and the status.
func TestRegistryDeregisterBlockedByReferences(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	registerWithSyctl(t, g, "openai-main", up.URL, providerKey)
	syctl(t, g, "", "aliases", "put", "chat", "--target", "openai-main=2")
	if out := syctlFails(t, g, "", "aliases", "put", "chat2", "--target", "openai-main", "--target", "ghost"); !strings.Contains(out, `targets "ghost", which is not registered`) {
		t.Fatalf("alias to a missing service:\n%s", out)
	}
	putConsumerKey(t, g, &pb.ConsumerKey{Id: "key-1", Hash: strings.Repeat("ab", 32), Prefix: "sy-abc", Owner: "team-a", AllowedServices: []string{"openai-main"}})
	putConsumerKey(t, g, &pb.ConsumerKey{Id: "key-2", Hash: strings.Repeat("cd", 32), Prefix: "sy-def", Owner: "team-b", AllowedServices: []string{"openai-main"}, Revoked: true})

	out := syctlFails(t, g, "", "services", "deregister", "openai-main")
	for _, w := range []string{`model alias "chat"`, "consumer key key-1 (sy-abc…, owner \"team-a\")", "remove it from them first"} {
		if !strings.Contains(out, w) {
			t.Errorf("refusal lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "key-2") {
		t.Errorf("a revoked key was named as a reference:\n%s", out)
	}
	if getService(t, g, "openai-main") == nil {
		t.Fatal("refused deregistration removed the service")
	}

	syctl(t, g, "", "aliases", "delete", "chat")
	putConsumerKey(t, g, &pb.ConsumerKey{Id: "key-1", Hash: strings.Repeat("ab", 32), Prefix: "sy-abc", Owner: "team-a", AllowedServices: []string{"other"}})
	syctl(t, g, "", "services", "deregister", "openai-main")
	harness.Eventually(t, 5*time.Second, "record, credential and status gone", func() bool {
		return g.KeyCount(t, contract.BucketServices) == 0 && g.KeyCount(t, contract.BucketCredentials) == 0 &&
			g.KeyCount(t, contract.BucketStatus) == 0
	})
}

// putConsumerKey writes a key record as the router's key service does.
func putConsumerKey(t *testing.T, g *harness.Gateway, k *pb.ConsumerKey) {
	t.Helper()
	ctx := context.Background()
	kv, err := g.JS.KeyValue(ctx, contract.BucketKeys)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, k.GetHash(), data); err != nil {
		t.Fatal(err)
	}
}
