package edge

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/secret"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

const testProviderKey = "sk-provider-CANARY-91c2"

// staticRoutes serves one fixed table.
type staticRoutes struct{ t *routes.Table }

func (s staticRoutes) Load() *routes.Table { return s.t }
func (s staticRoutes) Ready() bool         { return true }

// usageLog records the usage events the edge publishes and the starts it
// records.
type usageLog struct {
	mu     sync.Mutex
	events []*pb.UsageEvent
	starts []*pb.UsageEvent
}

func (u *usageLog) Start(_ context.Context, ev *pb.UsageEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.starts = append(u.starts, ev)
}

func (u *usageLog) startCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.starts)
}

func (u *usageLog) Publish(ev *pb.UsageEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.events = append(u.events, ev)
}

func (u *usageLog) all() []*pb.UsageEvent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*pb.UsageEvent(nil), u.events...)
}

// waitEvent polls for the n-th usage event (events are published when the
// handler returns, which may be just after the client saw the answer).
func (u *usageLog) waitEvent(t testing.TB, n int) *pb.UsageEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if evs := u.all(); len(evs) >= n {
			return evs[n-1]
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("usage event %d never published", n)
	return nil
}

// upstream is a recording httptest upstream.
type upstream struct {
	*httptest.Server
	calls     atomic.Int64
	cancelled atomic.Int64
	mu        sync.Mutex
	last      *http.Request
	lastBody  []byte
}

// startUpstream runs handler behind a recorder; a request whose context
// ends before handler returns counts as cancelled.
func startUpstream(t testing.TB, handler http.HandlerFunc) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.last, u.lastBody = r.Clone(r.Context()), body
		u.mu.Unlock()
		u.calls.Add(1)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		handler(w, r)
		if r.Context().Err() != nil {
			u.cancelled.Add(1)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastRequest() (*http.Request, []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.lastBody
}

// svc describes a registered service for a test table.
type svc struct {
	name, namespace, model, protocol string
	base                             string
	functions                        []string
}

func newTable(services ...svc) *routes.Table { return routes.NewTable(newRoutes(services...)) }

func newRoutes(services ...svc) map[string]*routes.Route {
	m := map[string]*routes.Route{}
	for _, s := range services {
		m[s.name] = &routes.Route{
			Service: &pb.Service{Name: s.name, Namespace: s.namespace, Model: s.model, BaseUrl: s.base,
				Protocol: s.protocol, Functions: s.functions, AzureDeployment: s.model, AzureApiVersion: "2024-10-21"},
			Key: secret.New(testProviderKey), State: "Ready", Transport: http.DefaultTransport,
		}
	}
	return m
}

// testEdge is a running edge over a static table.
type testEdge struct {
	*Server
	URL   string
	usage *usageLog
}

func startEdge(t testing.TB, cfg Config, services ...svc) *testEdge {
	t.Helper()
	sink := &usageLog{}
	s := New(cfg, staticRoutes{newTable(services...)}, sink, slog.New(slog.DiscardHandler))
	srv := s.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &testEdge{Server: s, URL: "http://" + ln.Addr().String(), usage: sink}
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.FirstByteTimeout, cfg.StreamIdleTimeout, cfg.TotalTimeout = 2*time.Second, 2*time.Second, 10*time.Second
	return cfg
}

// post sends body to the edge and returns status, headers and body.
func post(t testing.TB, url, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

const openAIChatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-x",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop","logprobs":null}],` +
	`"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`

// openAIChatHandler answers every call with openAIChatAnswer.
func openAIChatHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, openAIChatAnswer)
}

// discardUsage drops usage events (benchmarks).
type discardUsage struct{}

func (discardUsage) Publish(*pb.UsageEvent) {}
