package edge

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/health"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

const chatTemplate = `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`

func chatFor(model string) string { return strings.Replace(chatTemplate, "%s", model, 1) }

// startEdgeWith runs an edge over services and aliases.
func startEdgeWith(t *testing.T, cfg Config, services []svc, aliases ...*pb.ModelAlias) *testEdge {
	t.Helper()
	byName := map[string]*pb.ModelAlias{}
	for _, a := range aliases {
		byName[a.GetName()] = a
	}
	table := routes.NewTableWithAliases(newRoutes(services...), byName)
	return startEdgeOver(t, cfg, table)
}

// serveEdge serves s on a loopback port until the test ends.
func serveEdge(t testing.TB, s *Server) *testEdge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer("")
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &testEdge{Server: s, URL: "http://" + ln.Addr().String()}
}

func decodeJSON(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// failing answers status (with Retry-After when given) to every call.
func failing(t testing.TB, status int, retryAfter string) *upstream {
	return startUpstream(t, func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":{"message":"down","type":"server_error"}}`)
	})
}

// closedURL is an address nothing listens on: a connect failure.
func closedURL(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// Fallback: a connect failure, a 429 or a 5xx from the first service is
// hidden by the second; the client request is metered once, by the
// service that answered.
func TestFallbackBeforeFirstByte(t *testing.T) {
	cases := []struct {
		name string
		bad  func(t *testing.T) string
	}{
		{"connect refused", func(t *testing.T) string { return closedURL(t) }},
		{"503", func(t *testing.T) string { return failing(t, 503, "").URL }},
		{"429", func(t *testing.T) string { return failing(t, 429, "").URL }},
		{"500", func(t *testing.T) string { return failing(t, 500, "").URL }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := startUpstream(t, openAIChatHandler)
			cfg := testConfig()
			e := startEdgeWith(t, cfg, []svc{
				{name: "bad", model: "m-bad", protocol: "OPENAI_V1", base: tc.bad(t)},
				{name: "good", model: "m-good", protocol: "OPENAI_V1", base: good.URL},
			}, &pb.ModelAlias{Name: "chat", Targets: []*pb.AliasTarget{{Service: "bad", Weight: 1000000}, {Service: "good", Weight: 1}}})
			status, _, body := post(t, e.URL+"/v1/chat/completions", chatFor("chat"))
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			ev := e.usage.waitEvent(t, 1)
			if ev.GetService() != "good" || ev.GetAlias() != "chat" || ev.GetModel() != "m-good" || ev.GetOutcome() != "complete" {
				t.Fatalf("usage event %v", ev)
			}
			if n := len(e.usage.all()); n != 1 {
				t.Fatalf("%d usage events for one client request", n)
			}
		})
	}
}

// The last failure is relayed as it would have been without fallback,
// and a 4xx about the request is never retried.
func TestNoFallbackForClientErrorsAndLastFailureRelayed(t *testing.T) {
	bad := failing(t, 400, "")
	other := startUpstream(t, openAIChatHandler)
	e := startEdgeWith(t, testConfig(), []svc{
		{name: "a", model: "m", protocol: "OPENAI_V1", base: bad.URL},
		{name: "b", model: "m2", protocol: "OPENAI_V1", base: other.URL},
	}, &pb.ModelAlias{Name: "chat", Targets: []*pb.AliasTarget{{Service: "a", Weight: 1000000}, {Service: "b", Weight: 1}}})
	if status, _, _ := post(t, e.URL+"/v1/chat/completions", chatFor("chat")); status != 400 || other.calls.Load() != 0 {
		t.Fatalf("400: status %d, other service called %d times", status, other.calls.Load())
	}
	down1, down2 := failing(t, 503, ""), failing(t, 502, "")
	e = startEdgeWith(t, testConfig(), []svc{
		{name: "x", model: "m", protocol: "OPENAI_V1", base: down1.URL},
		{name: "y", model: "m", protocol: "OPENAI_V1", base: down2.URL},
	})
	status, _, body := post(t, e.URL+"/v1/chat/completions", chatFor("m"))
	if status < 500 || down1.calls.Load()+down2.calls.Load() != 2 {
		t.Fatalf("both down: status %d (%s), calls %d+%d", status, body, down1.calls.Load(), down2.calls.Load())
	}
}

// Once a stream's first byte has gone to the client, a failure ends the
// stream; it is never replayed against another service.
func TestNoFallbackAfterFirstByte(t *testing.T) {
	broken := sseUpstream(t, []string{"data: " + openAIChunk(0, "a")}, nil) // ends without [DONE]
	other := startUpstream(t, openAIChatHandler)
	e := startEdgeWith(t, testConfig(), []svc{
		{name: "s1", model: "m", protocol: "OPENAI_V1", base: broken.URL},
		{name: "s2", model: "m2", protocol: "OPENAI_V1", base: other.URL},
	}, &pb.ModelAlias{Name: "chat", Targets: []*pb.AliasTarget{{Service: "s1", Weight: 1000000}, {Service: "s2", Weight: 1}}})
	next, done := streamReader(t, e.URL+"/v1/chat/completions", strings.Replace(streamBody, `"m"`, `"chat"`, 1))
	defer done()
	for {
		if _, ok := next(); !ok {
			break
		}
	}
	if other.calls.Load() != 0 {
		t.Fatal("a stream that had started was replayed on another service")
	}
}

// Weighted balancing follows the alias weights; a templated alias sends
// the model named by the header.
func TestAliasWeightsAndTemplates(t *testing.T) {
	heavy, light := startUpstream(t, openAIChatHandler), startUpstream(t, openAIChatHandler)
	e := startEdgeWith(t, testConfig(), []svc{
		{name: "heavy", model: "m1", protocol: "OPENAI_V1", base: heavy.URL},
		{name: "light", model: "m2", protocol: "OPENAI_V1", base: light.URL},
	},
		&pb.ModelAlias{Name: "chat", Targets: []*pb.AliasTarget{{Service: "heavy", Weight: 3}, {Service: "light", Weight: 1}}},
		&pb.ModelAlias{Name: "pick", ModelFrom: "header:X-Model", Targets: []*pb.AliasTarget{{Service: "light"}}},
		&pb.ModelAlias{Name: "bypath", ModelFrom: "path", Targets: []*pb.AliasTarget{{Service: "light"}}},
		&pb.ModelAlias{Name: "byquery", ModelFrom: "query:model", Targets: []*pb.AliasTarget{{Service: "light"}}})
	const n = 400
	for range n {
		if status, _, body := post(t, e.URL+"/v1/chat/completions", chatFor("chat")); status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
	}
	share := float64(heavy.calls.Load()) / n
	if share < 0.65 || share > 0.85 {
		t.Fatalf("weight 3:1 gave the heavy service %.2f of the traffic", share)
	}
	cases := []struct{ name, path, header, want string }{
		{"header", "/v1/chat/completions", "gpt-4o-mini", "gpt-4o-mini"},
		{"path", "/bypath/meta-llama%2FLlama-3.1-8B/v1/chat/completions", "", "meta-llama/Llama-3.1-8B"},
		{"query", "/v1/chat/completions?model=o3", "", "o3"},
	}
	for _, tc := range cases {
		model := map[string]string{"header": "pick", "path": "ignored", "query": "byquery"}[tc.name]
		status, _, body := post(t, e.URL+tc.path, chatFor(model), "X-Model", tc.header)
		_, sent := light.lastRequest()
		var got struct{ Model string }
		_ = json.Unmarshal(sent, &got)
		if status != 200 || got.Model != tc.want {
			t.Errorf("%s: status %d (%s), upstream model %q, want %q", tc.name, status, body, got.Model, tc.want)
		}
	}
	if status, _, body := post(t, e.URL+"/v1/chat/completions", chatFor("pick")); status != 400 || !strings.Contains(body, "X-Model") {
		t.Errorf("missing header: %d %s", status, body)
	}
}

// A service whose circuit is open is skipped while another serves; a
// pinned request to it is answered 503 with Retry-After, with no call.
func TestOpenCircuitIsSkippedAndPinnedGets503(t *testing.T) {
	down := failing(t, 429, "30")
	up := startUpstream(t, openAIChatHandler)
	cfg := testConfig()
	cfg.Circuits = health.New(health.Config{})
	e := startEdgeWith(t, cfg, []svc{
		{name: "down", model: "m", protocol: "OPENAI_V1", base: down.URL},
		{name: "up", model: "m", protocol: "OPENAI_V1", base: up.URL},
	})
	for range 20 {
		if status, _, body := post(t, e.URL+"/v1/chat/completions", chatFor("m")); status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
	}
	if n := down.calls.Load(); n != 1 {
		t.Fatalf("the 429 service got %d calls; its Retry-After should have kept it at 1", n)
	}
	status, h, _ := post(t, e.URL+"/down/v1/chat/completions", chatFor("m"))
	if status != 503 || h.Get("Retry-After") == "" || down.calls.Load() != 1 {
		t.Fatalf("pinned to an open circuit: %d Retry-After %q, calls %d", status, h.Get("Retry-After"), down.calls.Load())
	}
}

// Until the route table is loaded the edge answers 503 with Retry-After,
// not 404.
func TestNotReadyIs503(t *testing.T) {
	var ready atomic.Bool
	s := New(testConfig(), &lateRoutes{ready: &ready, t: newTable(svc{name: "a", model: "m", protocol: "OPENAI_V1"})},
		discardUsage{}, slog.New(slog.DiscardHandler))
	status, h, body := post(t, serveEdge(t, s).URL+"/v1/chat/completions", chatFor("m"))
	if status != 503 || h.Get("Retry-After") != "1" || !strings.Contains(body, "not_ready") {
		t.Fatalf("%d %q %s", status, h.Get("Retry-After"), body)
	}
}

type lateRoutes struct {
	ready *atomic.Bool
	t     *routes.Table
}

func (l *lateRoutes) Load() *routes.Table { return l.t }
func (l *lateRoutes) Ready() bool         { return l.ready.Load() }
