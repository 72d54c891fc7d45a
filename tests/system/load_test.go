package system

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/metering/meteringapp"
)

const (
	fastModel = "gpt-4o-mini"
	slowModel = "slow-model"
)

// registerUpstreams registers both fake upstreams (probed by healthcheck
// over the stack's network) and waits until both routers serve them.
func (s *stack) registerUpstreams() error {
	for name, model := range map[string]string{"upstream": fastModel, "slowupstream": slowModel} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := natsrpc.Call(ctx, s.admin, contract.SubjServicesRegister, &pb.RegisterServiceRequest{
			Service: &pb.Service{Name: name, Model: model, BaseUrl: "http://" + name + ":9000",
				Protocol: "OPENAI_V1", Functions: []string{"chat"}},
			Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: "sk-fake"}},
		}, &pb.RegisterServiceResponse{})
		cancel()
		if err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	k, err := s.createKey("readiness@example.com", 0)
	if err != nil {
		return err
	}
	for _, r := range []string{"router-1", "router-2"} {
		if err := s.waitServes(r, k, fastModel, slowModel); err != nil {
			return err
		}
	}
	return nil
}

// key is a consumer key: the secret the client sends and its id, which
// usage is recorded under.
type key struct{ secret, id string }

func (s *stack) createKey(owner string, rpm int64) (key, error) {
	var rep pb.CreateKeyResponse
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := natsrpc.Call(ctx, s.admin, contract.SubjKeysCreate,
		&pb.CreateKeyRequest{Owner: owner, Limits: &pb.Limits{Rpm: rpm}}, &rep)
	return key{secret: rep.GetKey(), id: rep.GetRecord().GetId()}, err
}

func (s *stack) newKey(t *testing.T, owner string, rpm int64) key {
	t.Helper()
	k, err := s.createKey(owner, rpm)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return k
}

// waitServes polls a router until a key works and every model is listed.
func (s *stack) waitServes(router string, k key, models ...string) error {
	url := "http://" + s.boxes[router].hostAddr("8080/tcp") + "/v1/models"
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+k.secret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && containsAll(string(body), models) {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s does not serve %v within a minute with a fresh key", router, models)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, `"`+sub+`"`) {
			return false
		}
	}
	return true
}

func (s *stack) edge(router string) string { return "http://" + s.boxes[router].hostAddr("8080/tcp") }

// tally is what a load run saw, safe for concurrent use.
type tally struct {
	mu       sync.Mutex
	requests int
	errors   int
	statuses map[int]int
	ids      map[string]bool // every X-Request-Id answered
	okIDs    map[string]bool // requests that completed
	firstErr time.Time
	lastErr  time.Time
	samples  []string
	slowest  time.Duration
}

func newTally() *tally {
	return &tally{statuses: map[int]int{}, ids: map[string]bool{}, okIDs: map[string]bool{}}
}

func (t *tally) record(status int, id string, took time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	t.statuses[status]++
	t.slowest = max(t.slowest, took)
	if id != "" {
		t.ids[id] = true
	}
	if err == nil {
		if id != "" {
			t.okIDs[id] = true
		}
		return
	}
	t.errors++
	now := time.Now()
	if t.firstErr.IsZero() {
		t.firstErr = now
	}
	t.lastErr = now
	if len(t.samples) < 5 {
		t.samples = append(t.samples, err.Error())
	}
}

// errWindow is the time from the first to the last error.
func (t *tally) errWindow() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.firstErr.IsZero() {
		return 0
	}
	return t.lastErr.Sub(t.firstErr)
}

var client = &http.Client{Timeout: 60 * time.Second}

// chat sends one chat completion; an error is any answer but a complete
// 200 (for a stream: one that ends with [DONE]).
func chat(ctx context.Context, edge string, k key, model string, stream bool) (status int, id string, err error) {
	body, _ := json.Marshal(map[string]any{"model": model, "stream": stream,
		"messages": []map[string]string{{"role": "user", "content": "count me once"}}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, edge+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+k.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	id = resp.Header.Get("X-Request-Id")
	data, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return resp.StatusCode, id, fmt.Errorf("HTTP %d, body cut: %w", resp.StatusCode, err)
	case resp.StatusCode != http.StatusOK:
		return resp.StatusCode, id, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, data)
	case stream && !bytes.Contains(data, []byte("[DONE]")):
		return resp.StatusCode, id, fmt.Errorf("stream ended without [DONE]")
	case !stream && !bytes.Contains(data, []byte(`"choices"`)):
		return resp.StatusCode, id, fmt.Errorf("no choices: %.200s", data)
	}
	return resp.StatusCode, id, nil
}

// loadWorkers and loadPause pace the load at most ~4 x 100 requests a
// second: real traffic on a 2-core machine shared with other work.
const (
	loadWorkers = 4
	loadPause   = 10 * time.Millisecond
)

// load runs loadWorkers until ctx ends, each sending chats to the routers
// in turn over edges; every streamEvery-th request is streamed (0: none).
func load(ctx context.Context, edges []string, k key, model string, streamEvery int) *tally {
	t := newTally()
	var wg sync.WaitGroup
	for w := range loadWorkers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				stream := streamEvery > 0 && i%streamEvery == 0
				began := time.Now()
				status, id, err := chat(context.WithoutCancel(ctx), edges[(w+i)%len(edges)], k, model, stream)
				t.record(status, id, time.Since(began), err)
				time.Sleep(loadPause)
			}
		})
	}
	wg.Wait()
	return t
}

// loadFor runs load for d in the background; wait returns its tally.
func loadFor(d time.Duration, edges []string, k key, model string, streamEvery int) (wait func() *tally) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	done := make(chan *tally, 1)
	go func() { done <- load(ctx, edges, k, model, streamEvery) }()
	return func() *tally { defer cancel(); return <-done }
}

// metered is metering's view of one key's requests.
type metered struct {
	requests   int64 // in the day rollups
	lost       int   // completed requests missing from the ledger
	inLedger   int   // answered request ids in the ledger
	duplicated int64 // rollup requests beyond the distinct ids in the ledger
	caughtUp   time.Duration
}

// meter waits until metering has applied every usage event (SY_USAGE
// empty, the key's rollups stable) and compares them with the client's
// ledger: TEST-PLAN decision 10.
func (s *stack) meter(t *testing.T, k key, seen *tally) metered {
	t.Helper()
	began := time.Now()
	var m metered
	stable := 0
	for time.Since(began) < 2*time.Minute && stable < 3 {
		n := s.usageRequests(k)
		if n == m.requests && s.usageStreamEmpty() {
			stable++
		} else {
			stable = 0
		}
		m.requests = n
		time.Sleep(time.Second)
	}
	m.caughtUp = time.Since(began)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ledger, err := meteringapp.LedgerIDs(ctx, s.js)
	if err != nil {
		t.Fatalf("read the metering ledger: %v", err)
	}
	for id := range seen.ids {
		if _, ok := ledger[id]; ok {
			m.inLedger++
		} else if seen.okIDs[id] {
			m.lost++
		}
	}
	m.duplicated = m.requests - int64(m.inLedger)
	return m
}

func (s *stack) usageRequests(k key) int64 {
	var rep pb.UsageQueryResponse
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := natsrpc.Call(ctx, s.admin, contract.SubjUsageQuery,
		&pb.UsageQueryRequest{Window: "day", Consumer: k.id}, &rep); err != nil {
		return -1
	}
	var n int64
	for _, r := range rep.GetRows() {
		n += r.GetRequests()
	}
	return n
}

func (s *stack) usageStreamEmpty() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, contract.StreamUsage)
	if err != nil {
		return false
	}
	info, err := st.Info(ctx)
	return err == nil && info.State.Msgs == 0
}

// report prints a test's figures in one line (RELIABILITY.md quotes them).
func report(t *testing.T, name string, seen *tally, m metered, extra string) {
	t.Helper()
	seen.mu.Lock()
	defer seen.mu.Unlock()
	t.Logf("FIGURES %s: requests %d, errors %d (window %v), statuses %v, lost %d, duplicated %d, metered %d (caught up in %v), slowest %v; %s",
		name, seen.requests, seen.errors, errWindowLocked(seen), seen.statuses, m.lost, m.duplicated, m.requests,
		m.caughtUp.Round(time.Second), seen.slowest.Round(time.Millisecond), extra)
	if len(seen.samples) > 0 {
		t.Logf("error samples: %q", seen.samples)
	}
}

func errWindowLocked(t *tally) time.Duration {
	if t.firstErr.IsZero() {
		return 0
	}
	return t.lastErr.Sub(t.firstErr).Round(time.Millisecond)
}
