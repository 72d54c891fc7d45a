package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// upstreamKind is one provider the edge tests run against: the fake's
// dialect and how the service is registered.
type upstreamKind struct {
	name     string // also the service name
	fake     fakes.Protocol
	protocol string
	model    string // the edge model id (the provider's model, or Azure's deployment)
	embed    bool   // the protocol has an embeddings API
}

var upstreamKinds = []upstreamKind{
	{"openai", fakes.OpenAI, "OPENAI_V1", "gpt-4o-mini", true},
	{"vllm", fakes.VLLM, "OPENAI_V1", "meta-llama/Llama-3.1-8B-Instruct", true},
	{"anthropic", fakes.Anthropic, "ANTHROPIC_V1", "claude-sonnet-4-5", false},
	{"gemini", fakes.Gemini, "GEMINI_V1_BETA", "gemini-2.5-flash", true},
	{"azure", fakes.Azure, "AZURE_OPENAI", "gpt-4o-deployment", true},
}

// edgeGateway is an all-in-one gateway with one fake per upstream kind
// registered as service <kind.name>.
type edgeGateway struct {
	*harness.Gateway
	fakes map[string]*fakes.Fake
}

func startEdgeGateway(t *testing.T, cfg fakes.Config, configure func(*gatewayapp.Config)) *edgeGateway {
	t.Helper()
	g := &edgeGateway{Gateway: harness.Start(t, harness.AllInOne, harness.Options{Configure: configure}),
		fakes: map[string]*fakes.Fake{}}
	for _, k := range upstreamKinds {
		c := cfg
		c.APIKey, c.Models = providerKey, []string{k.model}
		g.fakes[k.name] = fakes.Start(t, k.fake, c)
		g.register(t, k, &pb.Service{Functions: []string{"chat"}})
	}
	return g
}

// register adds kind's fake as a service; extra supplies optional fields.
func (g *edgeGateway) register(t *testing.T, k upstreamKind, extra *pb.Service) {
	t.Helper()
	s := extra
	s.Name, s.Model, s.BaseUrl, s.Protocol = k.name, k.model, g.fakes[k.name].URL, k.protocol
	if k.fake == fakes.Azure {
		s.AzureDeployment, s.AzureApiVersion = k.model, "2024-10-21"
	}
	if k.embed {
		s.Functions = append(s.Functions, "embeddings")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rep pb.RegisterServiceResponse
	if err := natsrpc.Call(ctx, g.NC, contract.SubjServicesRegister, &pb.RegisterServiceRequest{
		Service:    s,
		Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: providerKey}},
	}, &rep); err != nil {
		t.Fatalf("register %s: %v", k.name, err)
	}
	harness.Eventually(t, 2*time.Second, k.name+" routable", func() bool { return edgeHasModel(g.Gateway, k.model) })
	g.fakes[k.name].ResetRecords()
}

// client is an openai-go client for base (e.g. "/v1", "/openai/v1") that
// never retries, so each call is one edge request.
func (g *edgeGateway) client(base string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.EdgeURL+base), option.WithAPIKey("consumer-key-CANARY"),
		option.WithMaxRetries(0), option.WithRequestTimeout(30*time.Second))
}

func userChat(model, text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	}
}
