package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const streamBody = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`

func openAIChunk(i int, text string) string {
	return fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`, text+fmt.Sprint(i))
}

// sseUpstream writes events with a flush after each; step runs before the
// n-th event and may block or end the response (return false).
func sseUpstream(t *testing.T, events []string, step func(n int, r *http.Request) bool) *upstream {
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for n, ev := range events {
			if step != nil && !step(n, r) {
				return
			}
			if _, err := io.WriteString(w, ev+"\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
}

// streamReader posts a streaming request and returns a reader of its
// events (each "data: ..." payload), and a closer.
func streamReader(t *testing.T, url, body string) (next func() (string, bool), closeFn func()) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	next = func() (string, bool) {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "", false
			}
			if data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
				return data, true
			}
		}
	}
	return next, func() { resp.Body.Close() }
}

// Each event reaches the client before the upstream sends the next one:
// the upstream waits for the client to have seen it, so a buffering edge
// would deadlock here.
func TestStreamFlushesEveryEvent(t *testing.T) {
	seen := make(chan struct{}, 8)
	events := []string{"data: " + openAIChunk(0, "a"), "data: " + openAIChunk(1, "b"), "data: " + openAIChunk(2, "c"),
		`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		"data: [DONE]"}
	up := sseUpstream(t, events, func(n int, _ *http.Request) bool {
		if n == 0 || n == len(events)-1 {
			return true
		}
		select {
		case <-seen:
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	})
	e := startEdge(t, testConfig(), svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	next, closeFn := streamReader(t, e.URL+"/v1/chat/completions", streamBody)
	defer closeFn()
	for i := range 3 {
		data, ok := next()
		if !ok || !strings.Contains(data, fmt.Sprintf(`"c%d"`, i)) && !strings.Contains(data, fmt.Sprintf("%d", i)) {
			t.Fatalf("event %d: %q %v (buffered?)", i, data, ok)
		}
		seen <- struct{}{}
	}
	if data, _ := next(); !strings.Contains(data, `"finish_reason":"stop"`) {
		t.Fatalf("finish chunk: %q", data)
	}
	if data, _ := next(); data != "[DONE]" {
		t.Fatalf("terminator: %q", data)
	}
	if ev := e.usage.waitEvent(t, 1); ev.GetOutcome() != outcomeComplete {
		t.Fatalf("outcome %q", ev.GetOutcome())
	}
}

// Failures after the first byte end the stream with an error event, never
// a clean close; a timeout also cancels the upstream call.
func TestStreamFailuresEndWithErrorEvent(t *testing.T) {
	chunks := []string{"data: " + openAIChunk(0, "a"), "data: " + openAIChunk(1, "b"), "data: " + openAIChunk(2, "c")}
	cases := []struct {
		name       string
		configure  func(*Config)
		step       func(n int, r *http.Request) bool
		code       string
		cancelsUp  bool
		withinTime time.Duration
	}{
		{"upstream ends without a terminator", nil, func(n int, _ *http.Request) bool { return n < 2 }, "upstream_stream_truncated", false, time.Second},
		{"idle timeout", func(c *Config) { c.StreamIdleTimeout = 200 * time.Millisecond }, stallAfter(1), "upstream_timeout", true, 1500 * time.Millisecond},
		{"total timeout", func(c *Config) { c.TotalTimeout = 300 * time.Millisecond }, stallAfter(2), "upstream_timeout", true, 1500 * time.Millisecond},
		{"upstream aborts the connection", nil, func(n int, _ *http.Request) bool {
			if n == 2 {
				panic(http.ErrAbortHandler)
			}
			return true
		}, "upstream_stream_truncated", false, time.Second},
		{"upstream error event", nil, nil, "overloaded", false, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := chunks
			if tc.step == nil {
				events = append(chunks[:1:1], `event: error`+"\n"+`data: {"error":{"message":"Overloaded","type":"overloaded_error","code":"overloaded_error"}}`)
			}
			up := sseUpstream(t, events, tc.step)
			cfg := testConfig()
			if tc.configure != nil {
				tc.configure(&cfg)
			}
			e := startEdge(t, cfg, svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
			start := time.Now()
			next, closeFn := streamReader(t, e.URL+"/v1/chat/completions", streamBody)
			defer closeFn()
			var last string
			for data, ok := next(); ok; data, ok = next() {
				last = data
				if data == "[DONE]" {
					t.Fatal("a failed stream ended cleanly with [DONE]")
				}
			}
			if _, code, _ := errorBody(t, last); !strings.Contains(code, tc.code) && !strings.Contains(last, tc.code) {
				t.Fatalf("last event %q, want error %s", last, tc.code)
			}
			if took := time.Since(start); took > tc.withinTime {
				t.Fatalf("stream ended after %v", took)
			}
			if tc.cancelsUp {
				waitFor(t, time.Second, "upstream cancelled", func() bool { return up.cancelled.Load() == 1 })
			}
			if ev := e.usage.waitEvent(t, 1); ev.GetOutcome() != outcomePartial {
				t.Fatalf("outcome %q", ev.GetOutcome())
			}
		})
	}
}

// stallAfter sends n events, then holds the stream open until the edge
// gives up on it.
func stallAfter(n int) func(int, *http.Request) bool {
	return func(i int, r *http.Request) bool {
		if i < n {
			return true
		}
		<-r.Context().Done()
		return false
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFirstByteTimeoutIs504AndCancelsUpstream(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	cfg := testConfig()
	cfg.FirstByteTimeout = 200 * time.Millisecond
	e := startEdge(t, cfg, svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	for _, body := range []string{streamBody, strings.Replace(streamBody, `"stream":true,`, "", 1)} {
		start := time.Now()
		status, _, out := post(t, e.URL+"/v1/chat/completions", body)
		if _, code, _ := errorBody(t, out); status != http.StatusGatewayTimeout || code != "upstream_timeout" {
			t.Fatalf("status %d code %q", status, code)
		}
		if took := time.Since(start); took < cfg.FirstByteTimeout || took > cfg.FirstByteTimeout+time.Second {
			t.Fatalf("answered after %v", took)
		}
	}
	waitFor(t, time.Second, "upstream cancelled", func() bool { return up.cancelled.Load() == 2 })
}

// F16: a client that leaves mid-stream cancels the upstream call at once,
// and the usage event says client_cancelled with the usage seen so far
// (Anthropic reports input tokens in message_start).
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	events := []string{
		"event: message_start\ndata: " + `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}`,
		"event: content_block_start\ndata: " + `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"event: content_block_delta\ndata: " + `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`,
		"event: content_block_delta\ndata: " + `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}`,
	}
	up := sseUpstream(t, events, stallAfter(3))
	e := startEdge(t, testConfig(), svc{name: "an", model: "claude", protocol: "ANTHROPIC_V1", base: up.URL})
	next, closeFn := streamReader(t, e.URL+"/v1/chat/completions", strings.Replace(streamBody, `"m"`, `"claude"`, 1))
	for data, ok := next(); ok && !strings.Contains(data, "Hel"); data, ok = next() {
	}
	closeFn()
	left := time.Now()
	waitFor(t, time.Second, "upstream cancelled", func() bool { return up.cancelled.Load() == 1 })
	t.Logf("upstream cancelled %v after the client left", time.Since(left))
	ev := e.usage.waitEvent(t, 1)
	if ev.GetOutcome() != outcomeCancelled || ev.GetPromptTokens() != 25 {
		t.Fatalf("usage event %v", ev)
	}
}

// I4: a streaming client that never reads is cut off by the per-write
// deadline, which cancels the upstream call.
func TestStalledReaderIsCutByWriteDeadline(t *testing.T) {
	big := "data: " + openAIChunk(0, strings.Repeat("x", 64<<10))
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, big+"\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	cfg := testConfig()
	cfg.WriteTimeout = 200 * time.Millisecond
	e := startEdge(t, cfg, svc{name: "svc-a", model: "m", protocol: "OPENAI_V1", base: up.URL})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(streamBody), streamBody)
	waitFor(t, 10*time.Second, "upstream cancelled", func() bool { return up.cancelled.Load() == 1 })
	if ev := e.usage.waitEvent(t, 1); ev.GetOutcome() != outcomeCancelled {
		t.Fatalf("outcome %q", ev.GetOutcome())
	}
}
