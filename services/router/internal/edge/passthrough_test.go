package edge

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func multipartAudio(t *testing.T) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("model", "whisper-1")
	fw, err := mw.CreateFormFile("file", "hello.m4a")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte{0x00, 0x01, 0xff, 0xfe, 'R', 'I', 'F', 'F'})
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestPassthroughForwardsUnalteredAndMeters(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "yes")
		switch r.URL.Path {
		case "/v1/audio/transcriptions":
			_, _ = io.WriteString(w, `{"text":"Hello!"}`)
		case "/v1/messages":
			_, _ = io.WriteString(w, `{"usage":{"input_tokens":5,"cache_read_input_tokens":3,"output_tokens":4}}`)
		case "/v1beta/models/g:generateContent":
			_, _ = io.WriteString(w, `{"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"thoughtsTokenCount":1}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"message":"nope"}}`)
		}
	})
	e := startEdge(t, testConfig(),
		svc{name: "oa", model: "whisper-1", protocol: "OPENAI_V1", base: up.URL},
		svc{name: "an", namespace: "team", model: "claude", protocol: "ANTHROPIC_V1", base: up.URL},
		svc{name: "ge", model: "g", protocol: "GEMINI_V1_BETA", base: up.URL})
	audio, audioType := multipartAudio(t)
	cases := []struct {
		name, method, path, contentType string
		body                            []byte
		status                          int
		wantPath, wantQuery, authHeader string
		prompt, completion              int64
		outcome                         string
	}{
		{"multipart audio", "POST", "/oa/passthrough/v1/audio/transcriptions", audioType, audio, 200,
			"/v1/audio/transcriptions", "", "Authorization", 0, 0, outcomeComplete},
		{"anthropic usage, namespaced", "POST", "/team/an/passthrough/v1/messages", "application/json", []byte(`{"x":1}`), 200,
			"/v1/messages", "", "X-Api-Key", 8, 4, outcomeComplete},
		{"gemini usage, key query dropped", "POST", "/ge/passthrough/v1beta/models/g:generateContent?key=consumer&alt=json",
			"application/json", []byte(`{}`), 200, "/v1beta/models/g:generateContent", "alt=json", "X-Goog-Api-Key", 7, 3, outcomeComplete},
		{"upstream 404 relayed", "DELETE", "/oa/passthrough/v1/files/f1", "", nil, 404, "/v1/files/f1", "", "Authorization", 0, 0, outcomeUpstream},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.URL+tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("Authorization", "Bearer consumer-key-CANARY")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("X-Upstream") != "yes" {
				t.Fatalf("status %d headers %v: %s", resp.StatusCode, resp.Header, got)
			}
			sent, sentBody := up.lastRequest()
			if sent.Method != tc.method || sent.URL.Path != tc.wantPath || sent.URL.RawQuery != tc.wantQuery ||
				!bytes.Equal(sentBody, tc.body) || sent.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("upstream got %s %s?%s %q (%s)", sent.Method, sent.URL.Path, sent.URL.RawQuery, sentBody, sent.Header.Get("Content-Type"))
			}
			if v := sent.Header.Get(tc.authHeader); !strings.Contains(v, testProviderKey) {
				t.Fatalf("provider key not injected in %s: %q", tc.authHeader, v)
			}
			if strings.Contains(sent.Header.Get("Authorization"), "consumer") {
				t.Fatal("consumer key forwarded")
			}
			ev := e.usage.waitEvent(t, i+1)
			if ev.GetPromptTokens() != tc.prompt || ev.GetCompletionTokens() != tc.completion || ev.GetOutcome() != tc.outcome ||
				ev.GetStatusCode() != int32(tc.status) {
				t.Fatalf("usage event %v", ev)
			}
		})
	}
}

func TestPassthroughRefusesDotSegmentsAndUnknownServices(t *testing.T) {
	up := startUpstream(t, openAIChatHandler)
	e := startEdge(t, testConfig(), svc{name: "oa", model: "m", protocol: "OPENAI_V1", base: up.URL})
	for path, code := range map[string]string{
		"/oa/passthrough/v1/../admin":   "invalid_path",
		"/oa/passthrough/v1/%2e%2e/x":   "invalid_path",
		"/oa/passthrough/v1//x":         "invalid_path",
		"/oa/passthrough/a%2fb":         "invalid_path",
		"/nope/passthrough/v1/models":   "service_not_found",
		"/ns/oa/passthrough/v1/models":  "service_not_found",
		"/oa/passthrough/v1/./x/models": "invalid_path",
	} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		req.URL.RawPath = strings.SplitN(path, "?", 2)[0] // keep the escapes as written
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if _, got, _ := errorBody(t, string(body)); got != code {
			t.Errorf("%s: code %q, want %q", path, got, code)
		}
	}
	if up.calls.Load() != 0 {
		t.Fatal("a refused passthrough reached the upstream")
	}
}
