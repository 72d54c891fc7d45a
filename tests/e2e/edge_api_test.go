package e2e

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// Upstream failures reach the SDK as *openai.Error with OpenAI's status
// semantics, whichever provider produced them and however it spelled
// them. A provider rejecting the gateway's own key is the operator's
// problem, so the client sees 502, not 401.
func TestEdgeUpstreamErrorsNormalised(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{}, nil)
	cases := []struct {
		kind   fakes.ErrorKind
		status int
		typ    string
	}{
		{fakes.KindInvalidKey, 502, "server_error"},
		{fakes.KindPermission, 403, "permission_error"},
		{fakes.KindModelNotFound, 404, "invalid_request_error"},
		{fakes.KindRateLimit, 429, "rate_limit_error"},
		{fakes.KindQuota, 429, "insufficient_quota"},
		{fakes.KindServer, 500, "server_error"},
		{fakes.KindOverloaded, 503, "server_error"},
	}
	for _, k := range upstreamKinds {
		for _, tc := range cases {
			t.Run(k.name+"/"+tc.kind.String(), func(t *testing.T) {
				if k.fake == fakes.VLLM && (tc.kind == fakes.KindPermission || tc.kind == fakes.KindQuota) {
					t.Skip("vLLM has no permission or quota errors")
				}
				g.fakes[k.name].FailNext(1, fakes.Fault{Kind: tc.kind})
				c := g.client("/v1")
				_, err := c.Chat.Completions.New(context.Background(), userChat(k.model, "hi"))
				apiErr := assertAPIError(t, err, tc.status, "")
				if k.fake == fakes.Azure && tc.kind == fakes.KindQuota {
					tc.typ = "rate_limit_error" // Azure's quota answer is its token-rate 429 ("retry after 1 seconds")
				}
				if apiErr.Type != tc.typ {
					t.Fatalf("type %q, want %q (%s)", apiErr.Type, tc.typ, apiErr.Message)
				}
			})
		}
	}
}

// Embeddings through OpenAI (passthrough) and Gemini (batchEmbedContents
// translated): one vector per input, in order, with usage.
func TestEdgeEmbeddings(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{EmbeddingDims: 16}, nil)
	for _, name := range []string{"openai", "gemini", "azure"} {
		k := kindNamed(name)
		t.Run(name, func(t *testing.T) {
			c := g.client("/v1")
			res, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model: openai.EmbeddingModel(k.model),
				Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Data) != 2 || res.Data[1].Index != 1 || len(res.Data[0].Embedding) != 16 || res.Object != "list" {
				t.Fatalf("embeddings %+v", res)
			}
		})
	}
	c := g.client("/v1")
	_, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "claude-sonnet-4-5", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
	})
	assertAPIError(t, err, 400, "")
}

func kindNamed(name string) upstreamKind {
	for _, k := range upstreamKinds {
		if k.name == name {
			return k
		}
	}
	panic("no upstream kind " + name)
}

// Model listing with the SDK: every model, the ?function= filter, ids with
// '/' through the catch-all, and an OpenAI-shaped 404 for unknown ids.
func TestEdgeModels(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{}, nil)
	c := g.client("/v1")
	ids := func(opts ...option.RequestOption) []string {
		page, err := c.Models.List(context.Background(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range page.Data {
			out = append(out, m.ID)
		}
		slices.Sort(out)
		return out
	}
	all := ids()
	if len(all) != len(upstreamKinds) {
		t.Fatalf("models %v", all)
	}
	if got := ids(option.WithQuery("function", "embeddings")); slices.Contains(got, "claude-sonnet-4-5") || len(got) != 4 {
		t.Fatalf("function=embeddings: %v", got)
	}
	m, err := c.Models.Get(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	if err != nil || m.ID != "meta-llama/Llama-3.1-8B-Instruct" || m.Object != "model" || m.OwnedBy != "vllm" {
		t.Fatalf("get model with '/': %v %+v", err, m)
	}
	_, err = c.Models.Get(context.Background(), "meta-llama/nope")
	if apiErr := assertAPIError(t, err, 404, "model"); apiErr.Code != "model_not_found" {
		t.Fatalf("code %q", apiErr.Code)
	}
}

// The pinned forms: /{service}/v1 and /{namespace}/{service}/v1 reach that
// one service whatever model the body names, and the upstream sees the
// service's model.
func TestEdgePinnedPathForms(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{Text: "pinned"}, nil)
	k := kindNamed("openai")
	extra := upstreamKind{name: "team-gemini", fake: fakes.Gemini, protocol: "GEMINI_V1_BETA", model: "gemini-2.0-pro"}
	g.fakes[extra.name] = fakes.Start(t, fakes.Gemini, fakes.Config{APIKey: providerKey, Models: []string{extra.model}, Text: "pinned"})
	g.register(t, extra, &pb.Service{Namespace: "team", Functions: []string{"chat"}})
	cases := []struct {
		base, fake, wantModel string
	}{
		{"/openai/v1", "openai", k.model},
		{"/team/team-gemini/v1", "team-gemini", extra.model},
		{"/team-gemini/v1", "team-gemini", extra.model},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			c := g.client(tc.base)
			res, err := c.Chat.Completions.New(context.Background(), userChat("whatever-the-app-says", "hi"))
			if err != nil || res.Choices[0].Message.Content != "pinned" {
				t.Fatalf("%v %+v", err, res)
			}
			last, _ := g.fakes[tc.fake].LastRequest()
			if last.Model != tc.wantModel {
				t.Fatalf("upstream model %q, want %q", last.Model, tc.wantModel)
			}
			page, err := c.Models.List(context.Background())
			if err != nil || len(page.Data) != 1 || page.Data[0].ID != tc.wantModel {
				t.Fatalf("pinned model list: %v %+v", err, page)
			}
		})
	}
	other := g.client("/other/team-gemini/v1")
	_, err := other.Chat.Completions.New(context.Background(), userChat("x", "hi"))
	if apiErr := assertAPIError(t, err, 404, ""); apiErr.Code != "service_not_found" {
		t.Fatalf("code %q", apiErr.Code)
	}
}

// Passthrough: a multipart audio upload reaches the upstream unaltered
// with the provider key instead of the consumer's, and is metered.
func TestEdgePassthroughMultipart(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{}, nil)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("model", "whisper-1")
	fw, _ := mw.CreateFormFile("file", "hello.m4a")
	_, _ = fw.Write([]byte("\x00\x00\x00\x20ftypM4A binary audio"))
	_ = mw.Close()
	before := g.UsageEventsPublished(t)
	req, _ := http.NewRequest(http.MethodPost, g.EdgeURL+"/vllm/passthrough/v1/audio/transcriptions", bytes.NewReader(body.Bytes()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer consumer-key-CANARY")
	req.Header.Set("X-Fake-Status", "500") // arbitrary x-* headers stay at the edge
	resp, err := harness.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	up := g.fakes["vllm"]
	rec, ok := up.LastRequest()
	if !ok || rec.Path != "/v1/audio/transcriptions" || !bytes.Equal(rec.Body, body.Bytes()) ||
		rec.Header.Get("Content-Type") != mw.FormDataContentType() {
		t.Fatalf("upstream got %v %q", ok, rec.Path)
	}
	if rec.Header.Get("Authorization") != "Bearer "+providerKey || up.Sightings("consumer-key-CANARY") != 0 ||
		rec.Header.Get("X-Fake-Status") != "" {
		t.Fatalf("upstream headers %v", rec.Header)
	}
	harness.Eventually(t, 10*time.Second, "passthrough metered", func() bool { return g.UsageEventsPublished(t) == before+1 })
}
