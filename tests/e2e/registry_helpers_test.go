package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/services/gateway/syctlapp"
	"github.com/switchyard/switchyard/tests/fakes"
	"github.com/switchyard/switchyard/tests/harness"
)

// logBuffer collects every log line of a gateway, for the canary scan.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail is the last n lines, for a failure message.
func (b *logBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// gatewayConfig is the test gateway's config: loopback upstreams allowed,
// background health probes off unless a test turns them on.
func gatewayConfig(t *testing.T, configure func(*gatewayapp.Config)) (gatewayapp.Config, runtime.Common) {
	t.Helper()
	return harness.Config(t, harness.Options{Configure: configure})
}

// startGateway runs gateways built from cfg (one per target list) against
// one NATS and returns a harness.Gateway for the shared helpers. It is
// harness.Start with two things the harness does not offer: a logger the
// test reads, and targets the test can stop and start on its own.
func startGateway(t *testing.T, cfg gatewayapp.Config, common runtime.Common, log *slog.Logger, targets ...[]string) *harness.Gateway {
	t.Helper()
	if len(targets) == 0 {
		targets = [][]string{{"all"}}
	}
	ns := natsx.StartTestServer(t)
	common.NATS.URL = ns.ClientURL()
	cfg.EmbedNATS = false
	var router *gatewayapp.Gateway
	for _, tl := range targets {
		c := cfg
		c.Targets = tl
		gw := runTargets(t, c, common, log)
		if gw.Router != nil {
			router = gw
		}
	}
	addrCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := router.Router.Addr(addrCtx)
	if err != nil {
		t.Fatal(err)
	}
	nc := natsx.TestConn(t, ns, "test-client")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &harness.Gateway{EdgeURL: "http://" + addr, NATSURL: common.NATS.URL, NC: nc, JS: js}
}

// runTargets builds and runs one gateway process until the test ends (or
// the returned stop is called through stopTargets) and waits until ready.
func runTargets(t *testing.T, cfg gatewayapp.Config, common runtime.Common, log *slog.Logger) *gatewayapp.Gateway {
	t.Helper()
	gw, stop := startTargets(t, cfg, common, log)
	t.Cleanup(stop)
	return gw
}

func startTargets(t *testing.T, cfg gatewayapp.Config, common runtime.Common, log *slog.Logger) (*gatewayapp.Gateway, func()) {
	t.Helper()
	gw, err := gatewayapp.New(cfg, common, "0.0.0-test", log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	mods := gw.Modules()
	go func() {
		defer close(done)
		_ = runtime.Run(ctx, log, runtime.OpsConfig{}, mods...)
	}()
	harness.Eventually(t, 20*time.Second, "gateway ready", func() bool { return runtime.ReadyCheck(mods) == nil })
	return gw, func() { cancel(); <-done }
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// keyGate is an upstream in front of a fake that accepts only the keys it
// is told (a provider where old and new key overlap during a rotation) and
// records when each first arrived on a forwarded request (probes, which
// use GET, do not count).
type keyGate struct {
	*httptest.Server
	mu       sync.Mutex
	allowed  map[string]bool
	seen     map[string]time.Time
	last     map[string]time.Time // last forwarded request per key
	rejected atomic.Int64
}

func newKeyGate(t *testing.T, up *fakes.Fake, keys ...string) *keyGate {
	g := &keyGate{allowed: map[string]bool{}, seen: map[string]time.Time{}, last: map[string]time.Time{}}
	g.allow(keys...)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		g.mu.Lock()
		ok := g.allowed[key]
		forwarded := r.Method == http.MethodPost
		if _, known := g.seen[key]; !known && forwarded {
			g.seen[key] = time.Now()
		}
		if forwarded {
			g.last[key] = time.Now()
		}
		g.mu.Unlock()
		if !ok {
			if forwarded {
				g.rejected.Add(1)
			}
			http.Error(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`, http.StatusUnauthorized)
			return
		}
		up.ServeHTTP(w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *keyGate) allow(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		g.allowed[k] = true
	}
}

func (g *keyGate) revoke(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.allowed, key)
}

// drained reports whether old has not been forwarded for quiet while new
// has: requests that picked their route before a key switch carry the old
// key and may still be in flight when the new key first arrives, so a
// provider revokes the old key only once they have drained.
func (g *keyGate) drained(old, new string, quiet time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.last[new]
	return !l.IsZero() && l.Sub(g.last[old]) > quiet
}

// firstSeen is when the gate first saw key (zero if never).
func (g *keyGate) firstSeen(key string) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[key]
}

// traffic sends chat requests for model from workers goroutines until
// stopped, and counts successes and failures (no client retries).
type traffic struct {
	ok, failed atomic.Int64
	lastErr    atomic.Value
	stop       context.CancelFunc
	done       sync.WaitGroup
}

func startTraffic(g *harness.Gateway, model string, workers int) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{stop: cancel}
	client := openai.NewClient(option.WithBaseURL(g.EdgeURL+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	for range workers {
		tr.done.Go(func() {
			for ctx.Err() == nil {
				_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
					Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
				})
				switch {
				case err == nil:
					tr.ok.Add(1)
				case ctx.Err() == nil:
					tr.failed.Add(1)
					tr.lastErr.Store(err.Error())
				}
			}
		})
	}
	return tr
}

// finish stops the traffic and fails the test on any failed request.
func (tr *traffic) finish(t *testing.T) {
	t.Helper()
	tr.stop()
	tr.done.Wait()
	if n := tr.failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed; last: %v", n, n+tr.ok.Load(), tr.lastErr.Load())
	}
	if tr.ok.Load() < 10 {
		t.Fatalf("only %d requests went through; the test proves nothing", tr.ok.Load())
	}
	t.Logf("%d requests, none failed", tr.ok.Load())
}

func writeFileAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func registryStatusOf(t *testing.T, g *harness.Gateway, name string) *pb.Status {
	t.Helper()
	var rep pb.GetServiceResponse
	if err := natsrpc.Call(context.Background(), g.NC, contract.SubjServicesGet, &pb.GetServiceRequest{Name: name}, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.GetService().GetStatus()
}

// syctlFails runs syctl expecting a non-zero exit and returns stderr.
func syctlFails(t *testing.T, g *harness.Gateway, stdin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--nats-url", g.NATSURL}, args...)
	if code := syctlapp.Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut); code == 0 {
		t.Fatalf("syctl %v succeeded, want a refusal:\n%s", args, out.String())
	}
	return errOut.String()
}

func natsCall(ctx context.Context, g *harness.Gateway, subject string, req, rep proto.Message) error {
	return natsrpc.Call(ctx, g.NC, subject, req, rep)
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
