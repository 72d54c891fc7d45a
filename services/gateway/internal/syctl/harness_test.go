package syctl

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// testEnv is a real in-process nats-server with fakes of the services
// syctl talks to, served with natsrpc like the real ones.
type testEnv struct {
	url string
	nc  *nats.Conn
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ns := natsx.StartTestServer(t)
	return &testEnv{url: ns.ClientURL(), nc: natsx.TestConn(t, ns, "fakes")}
}

// result is what one syctl run produced.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) all() string { return r.stdout + r.stderr }

// run runs syctl against the test server with stdin as its input.
func (e *testEnv) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runSyctl(t, stdin, append([]string{"--nats-url", e.url, "--timeout", "5s"}, args...)...)
}

func runSyctl(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// recorder keeps the requests a fake received.
type recorder[Req proto.Message] struct {
	mu  sync.Mutex
	got []Req
}

func (r *recorder[Req]) add(req Req) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
}

// requests returns a copy of what was received so far.
func (r *recorder[Req]) requests() []Req {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Req(nil), r.got...)
}

// only returns the single request received, failing the test otherwise.
func (r *recorder[Req]) only(t *testing.T) Req {
	t.Helper()
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(got))
	}
	return got[0]
}

// serveFake answers subject with reply and records every request.
func serveFake[Req proto.Message](t *testing.T, e *testEnv, subject string, newReq func() Req,
	reply func(Req) (proto.Message, error)) *recorder[Req] {
	t.Helper()
	rec := &recorder[Req]{}
	endpoint := func(_ context.Context, in any) (any, error) {
		req := in.(Req)
		rec.add(req)
		return reply(req)
	}
	svc, err := natsrpc.Serve(e.nc, natsrpc.ServiceConfig{Name: "fake", Logger: slog.New(slog.DiscardHandler)},
		natsrpc.NewRoute("fake", subject, endpoint, newReq))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	// The subscription must reach the server before syctl's request does.
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return rec
}

// replyWith is a fake reply that ignores the request.
func replyWith[Req proto.Message](rep proto.Message, err error) func(Req) (proto.Message, error) {
	return func(Req) (proto.Message, error) { return rep, err }
}

// assertProto fails unless got equals want, showing both as JSON.
func assertProto(t *testing.T, what string, want, got proto.Message) {
	t.Helper()
	if !proto.Equal(want, got) {
		t.Errorf("%s:\n got %s\nwant %s", what, protojson.Format(got), protojson.Format(want))
	}
}

func assertContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func assertCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}
