package edge

import (
	"net/http"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// TestStartRecordedBeforeUpstream: every request that reaches an upstream
// records its start once, before the upstream sees it, carrying what its
// final usage event will carry (so a marker replayed after a crash meters
// it the same way) and no tokens; a request refused at the edge records
// none.
func TestStartRecordedBeforeUpstream(t *testing.T) {
	var e *testEdge
	var startsWhenCalled atomic.Int64
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		startsWhenCalled.Store(int64(e.usage.startCount()))
		openAIChatHandler(w, r)
	})
	e = startEdge(t, testConfig(),
		svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL},
		svc{name: "oa", model: "whisper-1", protocol: "OPENAI_V1", base: up.URL})
	cases := []struct {
		name, path, body string
		status, starts   int
	}{
		{"chat", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 200, 1},
		{"unknown model: refused at the edge", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, 404, 0},
		{"passthrough", "/oa/passthrough/v1/chat/completions", `{"x":1}`, 200, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, events, calls := e.usage.startCount(), len(e.usage.all()), up.calls.Load()
			status, hdr, body := post(t, e.URL+tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := e.usage.startCount() - before; got != tc.starts {
				t.Fatalf("%d starts recorded; want %d", got, tc.starts)
			}
			if tc.starts == 0 {
				if up.calls.Load() != calls {
					t.Fatal("a refused request reached the upstream")
				}
				return
			}
			if got := startsWhenCalled.Load(); got != int64(before+1) {
				t.Fatalf("the upstream was called with %d starts recorded; want %d (start first)", got, before+1)
			}
			final := e.usage.waitEvent(t, events+1)
			e.usage.mu.Lock()
			start := proto.CloneOf(e.usage.starts[before])
			e.usage.mu.Unlock()
			checkStartMatchesFinal(t, start, final, hdr.Get("X-Request-Id"))
		})
	}
}

func checkStartMatchesFinal(t *testing.T, start, final *pb.UsageEvent, requestID string) {
	t.Helper()
	if start.GetRequestId() != requestID || final.GetRequestId() != requestID {
		t.Fatalf("request ids: start %q final %q header %q", start.GetRequestId(), final.GetRequestId(), requestID)
	}
	same := start.GetConsumer() == final.GetConsumer() && start.GetModel() == final.GetModel() &&
		start.GetService() == final.GetService() && start.GetProtocol() == final.GetProtocol() &&
		start.GetOperation() == final.GetOperation() && start.GetAlias() == final.GetAlias() &&
		start.GetStream() == final.GetStream() && start.GetTime().AsTime().Equal(final.GetTime().AsTime())
	if !same {
		t.Fatalf("start %v does not describe the request as its final event %v does", start, final)
	}
	if start.GetPromptTokens()+start.GetCompletionTokens() != 0 || start.GetOutcome() != "" {
		t.Fatalf("start carries tokens or an outcome: %v", start)
	}
}
