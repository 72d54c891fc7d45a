package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
		want edgePath
	}{
		{"/v1/chat/completions", true, edgePath{rest: "chat/completions"}},
		{"/v1/models/meta/llama-3", true, edgePath{rest: "models/meta/llama-3"}},
		{"/v1/models/a%2Fb", true, edgePath{rest: "models/a/b"}},
		{"/openai-a/v1/embeddings", true, edgePath{scope: scope{service: "openai-a"}, rest: "embeddings"}},
		{"/team/openai-a/v1/chat/completions", true, edgePath{scope: scope{"team", "openai-a"}, rest: "chat/completions"}},
		{"/openai-a/passthrough/v1/audio/transcriptions", true,
			edgePath{scope: scope{service: "openai-a"}, passthrough: true, rest: "/v1/audio/transcriptions"}},
		{"/team/openai-a/passthrough/x%2Fy", true,
			edgePath{scope: scope{"team", "openai-a"}, passthrough: true, rest: "/x%2Fy"}},
		{"/openai-a/passthrough", true, edgePath{scope: scope{service: "openai-a"}, passthrough: true, rest: "/"}},
		{"/", false, edgePath{}},
		{"", false, edgePath{}},
		{"/chat/completions", false, edgePath{}},
		{"/a/b/c/v1/chat/completions", false, edgePath{}},
		{"//v1/chat/completions", false, edgePath{}},
		{"/passthrough/v1/x", false, edgePath{}},
		{"/v1/models/%zz", false, edgePath{}},
	}
	for _, tc := range cases {
		got, ok := parsePath(tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parsePath(%q) = %+v, %v; want %+v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

// errorBody decodes an OpenAI error body, failing the test if it is not one.
func errorBody(t *testing.T, body string) (typ, code, param string) {
	t.Helper()
	var e struct {
		Error *struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error body: %q", body)
	}
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	if e.Error.Param != nil {
		param = *e.Error.Param
	}
	return e.Error.Type, code, param
}

func TestPathFormsRouteAndRewriteModel(t *testing.T) {
	a := startUpstream(t, openAIChatHandler)
	b := startUpstream(t, openAIChatHandler)
	e := startEdge(t, testConfig(),
		svc{name: "svc-a", model: "model-a", protocol: "OPENAI_V1", base: a.URL},
		svc{name: "svc-b", namespace: "team", model: "model-b", protocol: "OPENAI_V1", base: b.URL})
	cases := []struct {
		name, path, bodyModel string
		wantUp                *upstream
		wantModel             string
		wantStatus            int
		wantCode              string
	}{
		{"plain by model", "/v1/chat/completions", "model-b", b, "model-b", 200, ""},
		{"pinned service", "/svc-a/v1/chat/completions", "anything", a, "model-a", 200, ""},
		{"pinned namespaced", "/team/svc-b/v1/chat/completions", "model-a", b, "model-b", 200, ""},
		{"pinned without namespace", "/svc-b/v1/chat/completions", "x", b, "model-b", 200, ""},
		{"wrong namespace", "/other/svc-b/v1/chat/completions", "x", nil, "", 404, "service_not_found"},
		{"namespace on a service without one", "/team/svc-a/v1/chat/completions", "x", nil, "", 404, "service_not_found"},
		{"unknown service", "/nope/v1/chat/completions", "x", nil, "", 404, "service_not_found"},
		{"unknown model", "/v1/chat/completions", "model-z", nil, "", 404, "model_not_found"},
		{"unknown endpoint", "/v1/chat/complete", "model-a", nil, "", 404, "unknown_url"},
		{"unknown form", "/a/b/c/chat/completions", "model-a", nil, "", 404, "unknown_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.calls.Load() + b.calls.Load()
			status, _, body := post(t, e.URL+tc.path, `{"model":"`+tc.bodyModel+`","messages":[{"role":"user","content":"hi"}]}`)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			if tc.wantUp == nil {
				if _, code, _ := errorBody(t, body); code != tc.wantCode {
					t.Fatalf("code %q, want %q", code, tc.wantCode)
				}
				if after := a.calls.Load() + b.calls.Load(); after != before {
					t.Fatal("a refused request reached an upstream")
				}
				return
			}
			_, sent := tc.wantUp.lastRequest()
			var got struct{ Model string }
			if err := json.Unmarshal(sent, &got); err != nil || got.Model != tc.wantModel {
				t.Fatalf("upstream got model %q (%v), want %q", got.Model, err, tc.wantModel)
			}
		})
	}
}

func TestMethodNotAllowedIsJSON(t *testing.T) {
	e := startEdge(t, testConfig())
	resp, err := http.Get(e.URL + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("status %d allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if _, code, _ := errorBody(t, string(data)); code != "method_not_allowed" {
		t.Fatalf("code %q", code)
	}
}

func TestModelsListAndPinnedModels(t *testing.T) {
	e := startEdge(t, testConfig(),
		svc{name: "chat-a", model: "org/chat-model", protocol: "OPENAI_V1", base: "http://127.0.0.1:1", functions: []string{"chat"}},
		svc{name: "emb-a", model: "embed-model", protocol: "OPENAI_V1", base: "http://127.0.0.1:1", functions: []string{"embeddings"}})
	cases := []struct {
		path string
		want []string
	}{
		{"/v1/models", []string{"embed-model", "org/chat-model"}},
		{"/v1/models?function=chat", []string{"org/chat-model"}},
		{"/v1/models?function=embeddings", []string{"embed-model"}},
		{"/v1/models?function=rerank", []string{}},
		{"/emb-a/v1/models", []string{"embed-model"}},
	}
	for _, tc := range cases {
		resp, err := http.Get(e.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Object string
			Data   []struct{ ID string }
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		ids := []string{}
		for _, m := range list.Data {
			ids = append(ids, m.ID)
		}
		if err != nil || list.Object != "list" || strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v %q, want %q", tc.path, err, ids, tc.want)
		}
	}
	for path, want := range map[string]int{
		"/v1/models/org/chat-model": 200, "/v1/models/org": 404, "/chat-a/v1/models/org/chat-model": 200,
		"/emb-a/v1/models/org/chat-model": 404,
	} {
		resp, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
