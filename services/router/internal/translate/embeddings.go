package translate

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
)

// EmbeddingRequest is a decoded OpenAI /v1/embeddings body.
type EmbeddingRequest struct {
	Raw            []byte          `json:"-"`
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int64          `json:"dimensions"`
	// texts holds the input strings; single is true for a bare string input.
	texts  []string
	single bool
}

// DecodeEmbeddingRequest parses and validates an edge embeddings body.
func DecodeEmbeddingRequest(body []byte) (*EmbeddingRequest, error) {
	req := &EmbeddingRequest{Raw: body}
	if err := json.Unmarshal(body, req); err != nil {
		return nil, decodeError(err)
	}
	switch {
	case req.Model == "":
		return nil, invalidRequest("model", "You must provide a model parameter.")
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		return nil, invalidRequest("encoding_format", "'encoding_format' must be 'float' or 'base64'.")
	case req.Dimensions != nil && *req.Dimensions < 1:
		return nil, invalidRequest("dimensions", "'dimensions' must be at least 1.")
	}
	input := bytes.TrimSpace(req.Input)
	if len(input) > 0 && input[0] == '"' {
		req.single = true
		req.texts = make([]string, 1)
		_ = json.Unmarshal(input, &req.texts[0])
	} else if json.Unmarshal(input, &req.texts) != nil {
		req.texts = nil // token-id inputs: only OpenAI-family upstreams take them
	}
	if len(input) == 0 || string(input) == "null" || string(input) == "[]" {
		return nil, invalidRequest("input", "'input' must be a non-empty string or array.")
	}
	return req, nil
}

// Embeddings translates /v1/embeddings exchanges for one upstream protocol.
type Embeddings interface {
	Request(req *EmbeddingRequest, t Target) (UpstreamRequest, error)
	Response(req *EmbeddingRequest, status int, body []byte) ([]byte, Usage, error)
}

// EmbeddingsForProtocol returns the embeddings translator, or a 400 *Error
// for protocols without an embeddings API (Anthropic).
func EmbeddingsForProtocol(protocol string) (Embeddings, error) {
	switch protocol {
	case ProtocolOpenAI:
		return openAIEmbeddings{openAIFamily{endpoint: "embeddings"}}, nil
	case ProtocolAzure:
		return openAIEmbeddings{openAIFamily{azure: true, endpoint: "embeddings"}}, nil
	case ProtocolGemini:
		return geminiEmbeddings{}, nil
	}
	return nil, unsupported("model", "This model's provider does not offer embeddings.")
}

type openAIEmbeddings struct{ f openAIFamily }

func (e openAIEmbeddings) Request(req *EmbeddingRequest, t Target) (UpstreamRequest, error) {
	return e.f.request(req.Raw, t, false)
}

func (e openAIEmbeddings) Response(_ *EmbeddingRequest, status int, body []byte) ([]byte, Usage, error) {
	return e.f.response(status, body)
}

type geminiEmbeddings struct{}

type geminiEmbedContent struct {
	Model                string        `json:"model,omitempty"`
	Content              geminiContent `json:"content"`
	OutputDimensionality *int64        `json:"outputDimensionality,omitempty"`
}

func (geminiEmbeddings) Request(req *EmbeddingRequest, t Target) (UpstreamRequest, error) {
	if req.texts == nil {
		return UpstreamRequest{}, unsupported("input", "Gemini embeddings take text input only, not token ids.")
	}
	model := t.Model
	if model == "" {
		model = req.Model
	}
	resource := geminiResource(model)
	one := func(text string) geminiEmbedContent {
		return geminiEmbedContent{Content: geminiContent{Parts: []geminiPart{{Text: text}}}, OutputDimensionality: req.Dimensions}
	}
	var body []byte
	path := "/v1beta/" + resource + ":embedContent"
	if req.single {
		body, _ = json.Marshal(one(req.texts[0]))
	} else {
		batch := struct {
			Requests []geminiEmbedContent `json:"requests"`
		}{}
		for _, text := range req.texts {
			r := one(text)
			r.Model = resource
			batch.Requests = append(batch.Requests, r)
		}
		body, _ = json.Marshal(batch)
		path = "/v1beta/" + resource + ":batchEmbedContents"
	}
	return UpstreamRequest{Method: http.MethodPost, Path: path, Body: body}, nil
}

type geminiEmbedding struct {
	Values json.RawMessage `json:"values"`
}

type embeddingData struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

func (geminiEmbeddings) Response(req *EmbeddingRequest, status int, body []byte) ([]byte, Usage, error) {
	if status >= 400 {
		return nil, Usage{}, NormalizeError(status, body)
	}
	var resp struct {
		Embedding     *geminiEmbedding  `json:"embedding"`
		Embeddings    []geminiEmbedding `json:"embeddings"`
		UsageMetadata *geminiUsage      `json:"usageMetadata"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, Usage{}, malformedStream(err)
	}
	if resp.Embedding != nil {
		resp.Embeddings = append(resp.Embeddings, *resp.Embedding)
	}
	usage := resp.UsageMetadata.usage()
	out := struct {
		Object string          `json:"object"`
		Data   []embeddingData `json:"data"`
		Model  string          `json:"model"`
		Usage  struct {
			PromptTokens int64 `json:"prompt_tokens"`
			TotalTokens  int64 `json:"total_tokens"`
		} `json:"usage"`
	}{Object: "list", Data: []embeddingData{}, Model: req.Model}
	out.Usage.PromptTokens, out.Usage.TotalTokens = usage.PromptTokens, usage.TotalTokens
	for i, e := range resp.Embeddings {
		vector, err := encodeVector(e.Values, req.EncodingFormat)
		if err != nil {
			return nil, usage, malformedStream(err)
		}
		out.Data = append(out.Data, embeddingData{Object: "embedding", Index: i, Embedding: vector})
	}
	encoded, _ := json.Marshal(out)
	return encoded, usage, nil
}

// encodeVector keeps float vectors as the upstream wrote them and packs
// base64 requests as little-endian float32, like OpenAI.
func encodeVector(values json.RawMessage, format string) (any, error) {
	if format != "base64" {
		if len(values) == 0 {
			return json.RawMessage("[]"), nil
		}
		return values, nil
	}
	var floats []float64
	if err := json.Unmarshal(values, &floats); err != nil {
		return nil, err
	}
	buf := make([]byte, 4*len(floats))
	for i, f := range floats {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(f)))
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}
