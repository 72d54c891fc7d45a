package healthcheck

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/credentialtest"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/services/healthcheck/internal/store"
)

const (
	testKey   = "sk-health-test-key"
	testModel = "gpt-4o-mini"
)

// upstream is an OpenAI-compatible model endpoint that records the keyed
// probes it answers (the key-less second request of each probe is not
// counted) and can hold them at a gate.
type upstream struct {
	*httptest.Server
	mu     sync.Mutex
	probes []time.Time
	status int
	gate   chan struct{}
}

func startUpstream(t *testing.T, status int) *upstream {
	u := &upstream{status: status}
	u.Server = httptest.NewServer(u)
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		return
	}
	u.mu.Lock()
	u.probes = append(u.probes, time.Now())
	status, gate := u.status, u.gate
	u.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"message":"The engine is currently overloaded","type":"server_error","code":null}}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"id": testModel, "object": "model", "owned_by": "test"})
}

func (u *upstream) probeTimes() []time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]time.Time(nil), u.probes...)
}

func (u *upstream) setGate(g chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gate = g
}

// env is a real nats-server with the topology, a credential responder that
// hands out testKey, and a recorder of health events.
type env struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	st     *store.Store
	mu     sync.Mutex
	events []*pb.HealthEvent
	creds  *credentialtest.Server
}

func newEnv(t *testing.T) *env {
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "health-test")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{nc: nc, js: js, st: st, creds: credentialtest.Start(t, nc, testKey)}
	sub, err := nc.Subscribe(contract.SubjHealthEvents, e.recordEvent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return e
}

func (e *env) recordEvent(m *nats.Msg) {
	var ev pb.HealthEvent
	if proto.Unmarshal(m.Data, &ev) == nil {
		e.mu.Lock()
		e.events = append(e.events, &ev)
		e.mu.Unlock()
	}
}

func (e *env) eventCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events)
}

// startReplica runs one healthcheck replica until the returned stop is
// called (or the test ends) and waits until it has read sy_services.
func (e *env) startReplica(t *testing.T, cfg Config, cold bool) (stop func()) {
	policy, err := outbound.ParsePolicy("loopback")
	if err != nil {
		t.Fatal(err)
	}
	svc := New(cfg, NewProber(e.nc, policy, 5*time.Second), e.st, e.js, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx, func() { close(ready) }, cold)
	}()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("replica did not read sy_services")
	}
	return stop
}

func (e *env) putService(t *testing.T, name, baseURL string) {
	data, err := proto.Marshal(&pb.Service{Name: name, Model: testModel, BaseUrl: baseURL, Protocol: "OPENAI_V1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Services.Put(context.Background(), contract.Key(name), data); err != nil {
		t.Fatal(err)
	}
}

func (e *env) status(t *testing.T, name string) *pb.Status {
	st, err := e.st.GetStatus(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitState polls until name's status has state, and returns it.
func (e *env) waitState(t *testing.T, name, state string, within time.Duration) *pb.Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if st := e.status(t, name); st.GetState() == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %q not reached within %v (now %v)", name, state, within, e.status(t, name))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
