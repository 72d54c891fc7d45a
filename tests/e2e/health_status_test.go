package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// healthRegister registers one service with an inline key and returns the
// registry's answer.
func healthRegister(g *harness.Gateway, svc *pb.Service, key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rep pb.RegisterServiceResponse
	return natsrpc.Call(ctx, g.NC, contract.SubjServicesRegister, &pb.RegisterServiceRequest{
		Service:    svc,
		Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: key}},
	}, &rep)
}

// `syctl services list` shows each service's live status: Ready, then
// Failed with the diagnosis when the upstream starts refusing the key, then
// Ready again — all from the background refresh, no re-registration.
func TestHealthSyctlListShowsLiveStatuses(t *testing.T) {
	g := startHealthGateway(t, nil)
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	if _, err := register(t, g, "svc-live", up.URL, providerKey); err != nil {
		t.Fatal(err)
	}
	list := func() string { return syctl(t, g, "", "services", "list") }
	// Unknown until healthcheck records the inline probe (milliseconds).
	harness.Eventually(t, 2*time.Second, "list shows Ready", func() bool { return containsAll(list(), "svc-live", "Ready") })

	up.FailFraction(1, fakes.Fault{Kind: fakes.KindInvalidKey, AllPaths: true})
	harness.Eventually(t, 3*healthRound, "list shows Failed", func() bool {
		return containsAll(list(), "svc-live", "Failed", "API key is missing or invalid (status 401 from 127.0.0.1")
	})
	st := healthStatus(t, g, "svc-live")
	host := strings.TrimPrefix(up.URL, "http://")
	if st.GetHttpStatus() != http.StatusUnauthorized || st.GetHost() != host || st.GetCheckedAt() == nil ||
		st.GetTransitionedAt() == nil || st.GetKeyVerified() {
		t.Errorf("Failed status fields: %v", st)
	}
	if out := syctl(t, g, "", "services", "get", "svc-live"); !containsAll(out, "Failed", "HTTP status", "401", "Since") {
		t.Errorf("services get:\n%s", out)
	}

	up.ClearFaults()
	harness.Eventually(t, 3*healthRound, "list shows Ready again", func() bool {
		out := list()
		return containsAll(out, "svc-live", "Ready") && !strings.Contains(out, "Failed")
	})
	if st := healthStatus(t, g, "svc-live"); !st.GetKeyVerified() || st.GetMessage() != "" {
		t.Errorf("Ready status: %v", st)
	}
}

// Every classification row of issue 4, observed through registration
// against the provider fakes (each answers as the real provider does): the
// registration is refused with the row's message.
func TestHealthRegistrationDiagnosisPerRow(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	type row struct {
		name     string
		proto    fakes.Protocol
		protocol string
		model    string
		key      string
		fault    *fakes.Fault
		want     string
	}
	good, bad := providerKey, "sk-wrong-key-000"
	allPaths := func(f fakes.Fault) *fakes.Fault { f.AllPaths = true; return &f }
	for i, tc := range []row{
		{"OpenAI 401", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", bad, nil, "API key is missing or invalid (status 401 from "},
		{"Gemini 400 API_KEY_INVALID", fakes.Gemini, "GEMINI_V1_BETA", "gemini-2.5-flash", bad, nil, "API key is missing or invalid (status 400 from "},
		{"NIM 403 bad key", fakes.NIM, "OPENAI_V1", "meta/llama-3.1-8b-instruct", bad, nil, "API key is missing or invalid (status 403 from "},
		{"Anthropic 401", fakes.Anthropic, "ANTHROPIC_V1", "claude-sonnet-4-5", bad, nil, "API key is missing/invalid or account credits are exhausted"},
		{"OpenAI 429 insufficient_quota", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", good, allPaths(fakes.Fault{Kind: fakes.KindQuota}), "account quota exhausted — check billing and credits"},
		{"403 permission", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", good, allPaths(fakes.Fault{Kind: fakes.KindPermission}), "API key lacks permission for this endpoint"},
		{"OpenAI unknown model", fakes.OpenAI, "OPENAI_V1", "gpt-9", good, nil, "endpoint not found — check the base URL and model name"},
		{"vLLM unknown model after list fallback", fakes.VLLM, "OPENAI_V1", "not-served", good, nil, "endpoint not found — check the base URL and model name"},
		{"429 with Retry-After", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", good, allPaths(fakes.Fault{Status: 429, RetryAfter: "20"}), "rate limited by upstream"},
		{"503", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", good, allPaths(fakes.Fault{Status: 503}), "upstream is temporarily unavailable"},
		{"Anthropic 529", fakes.Anthropic, "ANTHROPIC_V1", "claude-sonnet-4-5", good, allPaths(fakes.Fault{Kind: fakes.KindOverloaded}), "upstream is temporarily unavailable"},
		{"500", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", good, allPaths(fakes.Fault{Status: 500}), "upstream server error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := fakes.Start(t, tc.proto, fakes.Config{APIKey: good})
			if tc.fault != nil {
				up.FailFraction(1, *tc.fault)
			}
			err := healthRegister(g, &pb.Service{Name: fmt.Sprintf("row-%d", i), Model: tc.model, BaseUrl: up.URL,
				Protocol: tc.protocol}, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("registration error %v; want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), good) {
				t.Fatal("the key is in the error")
			}
		})
	}
	if n := g.KeyCount(t, contract.BucketServices); n != 0 {
		t.Fatalf("%d refused services were stored", n)
	}
}

// S1 at registration: with loopback not allowed, a metadata address or a
// name that resolves to loopback is refused with a message, and the
// listener behind it sees zero connections.
func TestHealthRegistrationRefusesBlockedAddresses(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{Configure: func(c *gatewayapp.Config) {
		c.Router.Outbound, c.Healthcheck.Outbound = outbound.Policy{}, outbound.Policy{}
	}})
	up := fakes.Start(t, fakes.OpenAI, fakes.Config{APIKey: providerKey, Models: []string{model}})
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	for i, base := range []string{
		"http://169.254.169.254",
		"http://[fd00:ec2::254]",
		"http://100.100.100.200",
		"http://localhost:" + port,
		"http://127.0.0.1:" + port,
		"http://[::1]:" + port,
		"http://[::ffff:127.0.0.1]:" + port,
		"http://2130706433:" + port,
		"http://0x7f000001:" + port,
		"http://127.1:" + port,
	} {
		err := healthRegister(g, &pb.Service{Name: fmt.Sprintf("ssrf-%d", i), Model: model, BaseUrl: base, Protocol: "OPENAI_V1"}, providerKey)
		if err == nil {
			t.Errorf("%s: registration accepted", base)
			continue
		}
		if !strings.Contains(err.Error(), "not allowed") && !strings.Contains(err.Error(), "blocked") &&
			!strings.Contains(err.Error(), "base_url") {
			t.Errorf("%s: refusal does not say why: %v", base, err)
		}
		t.Logf("%s: %v", base, err)
	}
	if s := up.Stats(); s.ConnsOpened != 0 || s.Requests != 0 {
		t.Fatalf("the loopback listener saw %d connections and %d requests", s.ConnsOpened, s.Requests)
	}
	if n := g.KeyCount(t, contract.BucketServices); n != 0 {
		t.Fatalf("%d refused services were stored", n)
	}
}
