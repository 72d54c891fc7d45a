package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/provider"
)

// checkModel runs the protocol's model check. It returns the request that
// decided the result, so that the key check can repeat it without a key.
func (p *prober) checkModel(ctx context.Context) (request, Result) {
	switch p.target.Protocol {
	case provider.OpenAIV1:
		return p.checkOpenAI(ctx)
	case provider.AnthropicV1:
		return p.checkAnthropic(ctx)
	case provider.GeminiV1Beta:
		return p.checkGemini(ctx)
	}
	return p.checkAzure(ctx)
}

func get(target string) request { return request{method: http.MethodGet, url: target} }

// checkOpenAI reads GET /v1/models/{model}. vLLM (and NIM built on it) has no
// per-model route and answers 404, so a 404 falls back to the list.
func (p *prober) checkOpenAI(ctx context.Context) (request, Result) {
	one := get(p.base.join(nil, append([]string{"v1", "models"}, modelSegments(p.target.Model)...)...))
	r := p.send(ctx, one, true, errorBodyLimit)
	if r.err == nil && r.status == http.StatusNotFound {
		return p.checkOpenAIList(ctx, r)
	}
	return one, p.judge(r, hasModelID, "the answer is not a model object")
}

// checkOpenAIList looks for the model in GET /v1/models. notFound is the
// per-model 404, reported if the model is not listed either.
func (p *prober) checkOpenAIList(ctx context.Context, notFound reply) (request, Result) {
	list := get(p.base.join(nil, "v1", "models"))
	r := p.send(ctx, list, true, listBodyLimit)
	res := p.judge(r, isModelList, "the answer is not a model list")
	if res.Status != StatusReady {
		if r.err == nil && r.status == http.StatusNotFound {
			return list, p.failed(notFound, p.diagnose(notFound))
		}
		return list, res
	}
	if !listContains(r.body, p.target.Model) {
		msg := fmt.Sprintf("%s (status %d from %s): model %q is not in the model list",
			provider.MsgNotFound, notFound.status, provider.Sanitize(p.base.host()), provider.Sanitize(p.target.Model))
		return list, Result{Status: StatusFailed, Kind: provider.KindNotFound, Message: msg,
			HTTPStatus: notFound.status, Host: p.base.host()}
	}
	res.Note = "model found in GET /v1/models (the per-model endpoint answered 404, as vLLM does)"
	return list, res
}

// checkAnthropic reads GET /v1/models/{model}; Anthropic authenticates it
// with the same headers as a completion.
func (p *prober) checkAnthropic(ctx context.Context) (request, Result) {
	one := get(p.base.join(nil, append([]string{"v1", "models"}, modelSegments(p.target.Model)...)...))
	return one, p.judge(p.send(ctx, one, true, errorBodyLimit), hasModelID, "the answer is not a model object")
}

// checkGemini reads GET /v1beta/models/{model} and checks the model can
// generate content (or, for embedding models, embed).
func (p *prober) checkGemini(ctx context.Context) (request, Result) {
	one := get(p.base.join(nil, append([]string{"v1beta"}, geminiModelPath(p.target.Model)...)...))
	r := p.send(ctx, one, true, errorBodyLimit)
	res := p.judge(r, hasGeminiName, "the answer is not a Gemini model resource")
	if res.Status != StatusReady {
		return one, res
	}
	var model struct {
		Methods []string `json:"supportedGenerationMethods"`
	}
	_ = json.Unmarshal(r.body, &model) // judge already proved it decodes
	switch {
	case len(model.Methods) == 0, slices.Contains(model.Methods, "generateContent"):
		return one, res
	case slices.Contains(model.Methods, "embedContent"):
		res.Note = "model supports embeddings only (embedContent), not generateContent"
		return one, res
	}
	msg := fmt.Sprintf("model does not support generateContent (status %d from %s): it supports %s",
		r.status, provider.Sanitize(p.base.host()), provider.Sanitize(strings.Join(model.Methods, ", ")))
	return one, Result{Status: StatusFailed, Kind: provider.KindRejected, Message: msg,
		HTTPStatus: r.status, Host: p.base.host()}
}

// checkAzure proves the key and the deployment without generating a token.
// Azure retired the data-plane deployment GET (last in 2023-03-15-preview;
// deployments moved to the management plane, which needs Entra credentials,
// not the api-key), and GET /openai/models proves the key but not the
// deployment. So the probe posts a chat request with an empty messages
// array to the deployment: Azure answers 401 for a bad key, 404
// DeploymentNotFound for a wrong deployment, and 400 from validation for a
// good one, before any model runs, so nothing is billed.
func (p *prober) checkAzure(ctx context.Context) (request, Result) {
	probe := p.azureRequest()
	r := p.send(ctx, probe, true, errorBodyLimit)
	d := p.diagnose(r)
	if d.Kind == provider.KindRejected && r.status == probe.acceptStatus && hasErrorObject(r.body) {
		return probe, p.ready(r, "deployment verified by a request Azure rejects before generating tokens")
	}
	return probe, p.judge(r, anyBody, "")
}

// anyBody accepts any success body: Azure never legitimately answers 2xx to
// an empty conversation, and if a proxy does, the deployment still answered.
func anyBody([]byte) bool { return true }

func (p *prober) azureRequest() request {
	deployment := azureDeployment(p.target)
	if isAzureV1(p.target.AzureAPIVersion) {
		body, _ := json.Marshal(map[string]any{"model": deployment, "messages": []any{}})
		return request{method: http.MethodPost, body: body, acceptStatus: http.StatusBadRequest,
			url: p.base.join(nil, "openai", "v1", "chat", "completions")}
	}
	query := url.Values{"api-version": {p.target.AzureAPIVersion}}
	return request{method: http.MethodPost, body: []byte(`{"messages":[]}`), acceptStatus: http.StatusBadRequest,
		url: p.base.join(query, "openai", "deployments", deployment, "chat", "completions")}
}

// judge classifies r and, on success, checks that the body is what the
// endpoint returns (wellFormed); a 200 of something else usually means the
// base URL points at the wrong server.
func (p *prober) judge(r reply, wellFormed func([]byte) bool, what string) Result {
	d := p.diagnose(r)
	if d.Kind != provider.KindOK {
		return p.failed(r, d)
	}
	if !wellFormed(r.body) {
		return p.unexpected(r, what)
	}
	return p.ready(r, "")
}

func hasModelID(body []byte) bool {
	var m struct {
		ID string `json:"id"`
	}
	return json.Unmarshal(body, &m) == nil && m.ID != ""
}

func hasGeminiName(body []byte) bool {
	var m struct {
		Name string `json:"name"`
	}
	return json.Unmarshal(body, &m) == nil && m.Name != ""
}

type modelEntry struct {
	ID string `json:"id"`
}

type modelList struct {
	Data []modelEntry `json:"data"`
}

func isModelList(body []byte) bool {
	var l modelList
	return json.Unmarshal(body, &l) == nil && l.Data != nil
}

func listContains(body []byte, model string) bool {
	var l modelList
	if json.Unmarshal(body, &l) != nil {
		return false
	}
	return slices.Contains(l.Data, modelEntry{ID: model})
}

func hasErrorObject(body []byte) bool {
	var e struct {
		Error map[string]any `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error != nil
}
