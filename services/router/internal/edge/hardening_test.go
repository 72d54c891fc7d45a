package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every bad input is answered with OpenAI error JSON and reaches no upstream.
func TestBadInputsAreJSONAndNeverReachUpstream(t *testing.T) {
	up := startUpstream(t, openAIChatHandler)
	cfg := testConfig()
	cfg.MaxBodyBytes = 4096
	e := startEdge(t, cfg, svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	deep := strings.Repeat("[", 1000) + strings.Repeat("]", 1000) // 2 KB, well within the body limit
	cases := []struct {
		name, path, body string
		header           []string
		status           int
		code             string
	}{
		{"body over the limit", "/v1/chat/completions", `{"model":"m","x":"` + strings.Repeat("a", 4096) + `"}`, nil, 413, "request_too_large"},
		{"chat depth", "/v1/chat/completions", `{"model":"m","messages":` + deep + `}`, nil, 400, "json_too_deep"},
		{"completions depth", "/v1/completions", `{"model":"m","prompt":` + deep[:200] + deep[len(deep)-200:] + `}`, nil, 400, "json_too_deep"},
		{"embeddings depth", "/v1/embeddings", `{"model":"m","input":` + deep[:200] + deep[len(deep)-200:] + `}`, nil, 400, "json_too_deep"},
		{"duplicate model", "/v1/chat/completions", `{"model":"m","model":"m","messages":[{"role":"user","content":"x"}]}`, nil, 400, "duplicate_key"},
		{"stream as string", "/v1/chat/completions", `{"model":"m","stream":"true","messages":[{"role":"user","content":"x"}]}`, nil, 400, "invalid_type"},
		{"huge number", "/v1/chat/completions", `{"model":"m","temperature":1e999,"messages":[{"role":"user","content":"x"}]}`, nil, 400, "number_out_of_range"},
		{"invalid utf-8", "/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", nil, 400, "invalid_utf8"},
		{"missing model", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, nil, 400, "missing_model"},
		{"no messages", "/v1/chat/completions", `{"model":"m","messages":[]}`, nil, 400, "invalid_value"},
		{"not an object", "/v1/embeddings", `[1,2]`, nil, 400, "invalid_body"},
		{"embeddings without input", "/v1/embeddings", `{"model":"m"}`, nil, 400, ""},
		{"underscore header", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`,
			[]string{"X_Forwarded_For", "1.2.3.4"}, 400, "invalid_header_name"},
		{"header over the limit", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`,
			[]string{"X-Big", strings.Repeat("b", 100<<10)}, 431, "request_header_fields_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := post(t, e.URL+tc.path, tc.body, tc.header...)
			if status != tc.status || h.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d (%s), want %d: %s", status, h.Get("Content-Type"), tc.status, body)
			}
			typ, code, _ := errorBody(t, body)
			if typ != typeInvalidRequest || (tc.code != "" && code != tc.code) {
				t.Fatalf("type %q code %q, want code %q", typ, code, tc.code)
			}
		})
	}
	if n := up.calls.Load(); n != 0 {
		t.Fatalf("upstream called %d times by bad inputs", n)
	}
	if n := len(e.usage.all()); n != 0 {
		t.Fatalf("%d usage events for refused requests", n)
	}
}

// Beyond twice MaxHeaderBytes net/http answers itself (plain text); the
// connection is refused either way and nothing reaches an upstream.
func TestHeadersBeyondListenerLimitAreRefused(t *testing.T) {
	up := startUpstream(t, openAIChatHandler)
	e := startEdge(t, testConfig(), svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/chat/completions", strings.NewReader(`{}`))
	for i := range 10_000 {
		req.Header.Add("X-Many", strings.Repeat("v", 20)+string(rune('a'+i%26)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || up.calls.Load() != 0 {
		t.Fatalf("status %d, upstream calls %d", resp.StatusCode, up.calls.Load())
	}
}

// A body shorter than its Content-Length and a body that never finishes
// are both refused without an upstream call.
func TestTruncatedAndSlowBodies(t *testing.T) {
	up := startUpstream(t, openAIChatHandler)
	cfg := testConfig()
	cfg.BodyReadTimeout = 300 * time.Millisecond
	e := startEdge(t, cfg, svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	cases := []struct {
		name, raw  string
		closeWrite bool
		status     string
	}{
		{"content-length larger than the body", "Content-Length: 100\r\n\r\n{\"model\":\"m\"}", true, ""},
		{"slow body", "Content-Length: 100\r\n\r\n{\"model\":", false, "408"},
		{"infinite chunked body", "Transfer-Encoding: chunked\r\n\r\n1000\r\n" + strings.Repeat("a", 4096) + "\r\n", false, "408"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+tc.raw)
			if tc.closeWrite {
				_ = conn.(*net.TCPConn).CloseWrite()
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			if tc.status != "" && !strings.Contains(line, tc.status) {
				t.Fatalf("status line %q, want %s", line, tc.status)
			}
		})
	}
	if n := up.calls.Load(); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
}

// A slowloris connection that never finishes its headers is closed by
// ReadHeaderTimeout.
func TestSlowHeadersAreCut(t *testing.T) {
	cfg := testConfig()
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	e := startEdge(t, cfg)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: a")
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if err != nil || time.Since(start) > cfg.ReadHeaderTimeout+time.Second {
		t.Fatalf("connection not closed by ReadHeaderTimeout: %v after %v", err, time.Since(start))
	}
}

// S8: only the allowlisted headers and the provider credential reach an
// upstream, whatever the protocol and the endpoint.
func TestOnlyAllowlistedHeadersReachUpstream(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { openAIChatHandler(w, r) })
	e := startEdge(t, testConfig(), svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	inbound := []string{
		"Authorization", "Bearer consumer-key-CANARY", "X-Api-Key", "consumer-key-CANARY",
		"Api-Key", "consumer-key-CANARY", "X-Goog-Api-Key", "consumer-key-CANARY", "Cookie", "session=consumer-key-CANARY",
		"X-Custom", "nope", "X-Fake-Status", "500", "Connection", "X-Hop", "X-Hop", "nope", "Keep-Alive", "timeout=5",
		"Openai-Beta", "assistants=v2", "Accept-Language", "nb",
	}
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	for _, path := range []string{"/v1/chat/completions", "/svc-a/passthrough/v1/chat/completions"} {
		if status, _, out := post(t, e.URL+path, body, inbound...); status != 200 {
			t.Fatalf("%s: %d %s", path, status, out)
		}
		got, _ := up.lastRequest()
		for name, values := range got.Header {
			for _, v := range values {
				if strings.Contains(v, "consumer-key-CANARY") {
					t.Fatalf("%s: consumer key forwarded in %s", path, name)
				}
			}
		}
		for _, name := range []string{"X-Custom", "X-Fake-Status", "X-Hop", "Keep-Alive", "Cookie", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"} {
			if got.Header.Get(name) != "" {
				t.Errorf("%s: %s forwarded", path, name)
			}
		}
		if got.Header.Get("Authorization") != "Bearer "+testProviderKey || got.Header.Get("Openai-Beta") != "assistants=v2" ||
			got.Header.Get("Accept-Language") != "nb" {
			t.Errorf("%s: upstream headers %v", path, got.Header)
		}
	}
}
