package translate

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGeminiEmbeddings(t *testing.T) {
	tests := []struct {
		name, body, wantPath, wantBody, upstream, wantResponse string
	}{
		{"single string uses embedContent",
			`{"model":"emb","input":"hello","dimensions":3}`,
			"/v1beta/models/text-embedding-004:embedContent",
			`{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":3}`,
			`{"embedding":{"values":[0.1,-0.2,0.3]}}`,
			`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}],"model":"emb","usage":{"prompt_tokens":0,"total_tokens":0}}`},
		{"array uses batchEmbedContents with base64 output",
			`{"model":"emb","input":["a","b"],"encoding_format":"base64"}`,
			"/v1beta/models/text-embedding-004:batchEmbedContents",
			`{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]}}]}`,
			`{"embeddings":[{"values":[1]},{"values":[0]}],"usageMetadata":{"promptTokenCount":4}}`,
			`{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPw=="},{"object":"embedding","index":1,"embedding":"AAAAAA=="}],"model":"emb","usage":{"prompt_tokens":4,"total_tokens":4}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := EmbeddingsForProtocol(ProtocolGemini)
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeEmbeddingRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			up, err := e.Request(req, Target{Model: "text-embedding-004"})
			if err != nil || up.Path != tc.wantPath || string(up.Body) != tc.wantBody {
				t.Fatalf("request = %s %s (%v)\nwant %s %s", up.Path, up.Body, err, tc.wantPath, tc.wantBody)
			}
			out, _, err := e.Response(req, 200, []byte(tc.upstream))
			if err != nil || string(out) != tc.wantResponse {
				t.Fatalf("response = %s (%v)\nwant %s", out, err, tc.wantResponse)
			}
		})
	}
}

func TestEmbeddingRequestValidation(t *testing.T) {
	tests := []struct{ body, param string }{
		{`{"input":"x"}`, "model"},
		{`{"model":"m"}`, "input"},
		{`{"model":"m","input":[]}`, "input"},
		{`{"model":"m","input":"x","encoding_format":"hex"}`, "encoding_format"},
		{`{"model":"m","input":"x","dimensions":0}`, "dimensions"},
	}
	for _, tc := range tests {
		_, err := DecodeEmbeddingRequest([]byte(tc.body))
		if e := AsError(err); e.Status != 400 || e.Param != tc.param {
			t.Errorf("%s: err = %v, want 400 param %s", tc.body, err, tc.param)
		}
	}
	req, _ := DecodeEmbeddingRequest([]byte(`{"model":"m","input":[[1,2,3]]}`))
	e, _ := EmbeddingsForProtocol(ProtocolGemini)
	if _, err := e.Request(req, Target{}); AsError(err).Status != 400 {
		t.Errorf("token-id input to Gemini: err = %v, want 400", err)
	}
	oa, _ := EmbeddingsForProtocol(ProtocolOpenAI)
	up, err := oa.Request(req, Target{Model: "text-embedding-3-small"})
	if err != nil || up.Path != "/v1/embeddings" || string(up.Body) != `{"model":"text-embedding-3-small","input":[[1,2,3]]}` {
		t.Errorf("openai embeddings = %s %s (%v)", up.Path, up.Body, err)
	}
}

func TestSanitizeSchemaBoundsRecursion(t *testing.T) {
	schema := `{"type":"object","$defs":{"Node":{"type":"object","properties":{"next":{"$ref":"#/$defs/Node"}}}},"properties":{"root":{"$ref":"#/$defs/Node"}}}`
	out, err := sanitizeSchema(json.RawMessage(schema))
	if err != nil {
		t.Fatal(err)
	}
	encoded, _ := json.Marshal(out)
	if depth := strings.Count(string(encoded), `"next"`); depth == 0 || depth > maxSchemaDepth {
		t.Fatalf("recursive $ref expanded %d times, want 1..%d", depth, maxSchemaDepth)
	}
	if strings.Contains(string(encoded), "$ref") || strings.Contains(string(encoded), "$defs") {
		t.Fatalf("$ref/$defs leaked into Gemini schema: %s", encoded)
	}
	branching := `{"$defs":{"N":{"type":"object","properties":{"l":{"$ref":"#/$defs/N"},"r":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}`
	out, err = sanitizeSchema(json.RawMessage(branching))
	if err != nil {
		t.Fatal(err)
	}
	if encoded, _ = json.Marshal(out); strings.Count(string(encoded), "OBJECT") > maxSchemaNodes {
		t.Fatalf("branching recursion produced %d nodes, budget is %d", strings.Count(string(encoded), "OBJECT"), maxSchemaNodes)
	}
}
