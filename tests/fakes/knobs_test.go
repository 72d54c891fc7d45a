package fakes

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// generatedWord matches one word of the generated answer text.
var generatedWord = regexp.MustCompile(`tok[0-9]+ `)

// inference is one protocol's cheapest inference call.
type inference struct {
	path   string
	header map[string]string
	body   string
}

var inferenceCalls = map[Protocol]inference{
	OpenAI:    {"/v1/chat/completions", nil, openaiChatBody},
	VLLM:      {"/v1/chat/completions", nil, strings.Replace(openaiChatBody, "gpt-4o-mini", "meta-llama/Llama-3.1-8B-Instruct", 1)},
	NIM:       {"/v1/chat/completions", nil, strings.Replace(openaiChatBody, "gpt-4o-mini", "meta/llama-3.1-8b-instruct", 1)},
	Anthropic: {"/v1/messages", anthropicHeaders(""), anthropicBody},
	Gemini:    {"/v1beta/models/gemini-2.5-flash:generateContent", nil, geminiBody},
	Azure:     {"/openai/deployments/gpt-4o-deployment/chat/completions?api-version=2024-10-21", nil, openaiChatBody},
}

// streamCalls are the streaming variants of inferenceCalls.
var streamCalls = map[Protocol]inference{
	OpenAI:    {"/v1/chat/completions", nil, openaiStreamBody},
	Anthropic: {"/v1/messages", anthropicHeaders(""), strings.Replace(anthropicBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)},
	Gemini:    {"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", nil, geminiBody},
}

func TestInjectedFaultShapes(t *testing.T) {
	cases := []struct {
		proto      Protocol
		fault      Fault
		status     int
		retryAfter string
		want       map[string]any
	}{
		{OpenAI, Fault{Kind: KindQuota}, 429, "", map[string]any{"error.code": "insufficient_quota", "error.type": "insufficient_quota"}},
		{OpenAI, Fault{Status: 429, RetryAfter: "7"}, 429, "7", map[string]any{"error.code": "rate_limit_exceeded"}},
		{OpenAI, Fault{Status: 500}, 500, "", map[string]any{"error.type": "server_error", "error.code": nil}},
		{OpenAI, Fault{Status: 503}, 503, "", map[string]any{"error.message": openaiOverloadedMsg}},
		{VLLM, Fault{Status: 500}, 500, "", map[string]any{"error.type": "InternalServerError", "error.code": 500}},
		{NIM, Fault{Status: 429}, 429, "", map[string]any{"status": 429, "title": "Too Many Requests"}},
		{Anthropic, Fault{Kind: KindOverloaded}, 529, "", map[string]any{"type": "error", "error.type": "overloaded_error", "error.message": "Overloaded"}},
		{Anthropic, Fault{Status: 429, RetryAfter: "20"}, 429, "20", map[string]any{"error.type": "rate_limit_error"}},
		{Anthropic, Fault{Kind: KindQuota}, 400, "", map[string]any{"error.type": "invalid_request_error",
			"error.message": anthropicErrors[KindQuota].fallback}},
		{Anthropic, Fault{Kind: KindInvalidKey}, 401, "", map[string]any{"error.type": "authentication_error"}},
		{Gemini, Fault{Status: 429, RetryAfter: "47"}, 429, "", map[string]any{"error.status": "RESOURCE_EXHAUSTED",
			"error.details.0.violations.0.quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
			"error.details.1.retryDelay":           "47s"}},
		{Gemini, Fault{Kind: KindQuota}, 429, "", map[string]any{"error.details.0.violations.0.quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}},
		{Gemini, Fault{Status: 503}, 503, "", map[string]any{"error.status": "UNAVAILABLE", "error.code": 503}},
		{Azure, Fault{Status: 429, RetryAfter: "3"}, 429, "3", map[string]any{"error.code": "429"}},
		{Azure, Fault{Status: 503, Body: `{"canned":true}`}, 503, "", map[string]any{"canned": true}},
	}
	for _, tc := range cases {
		t.Run(string(tc.proto)+"/"+tc.fault.kind().String(), func(t *testing.T) {
			f := Start(t, tc.proto, Config{})
			f.FailNext(1, tc.fault)
			c := inferenceCalls[tc.proto]
			status, h, body := call(t, "POST", f.URL+c.path, c.header, c.body)
			if status != tc.status || h.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d retry-after %q, want %d %q; %s", status, h.Get("Retry-After"), tc.status, tc.retryAfter, body)
			}
			m := object(t, body)
			for path, want := range tc.want {
				got := at(m, path)
				if w, ok := want.(int); ok {
					got, want = num(got), w
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			if status, _, _ = call(t, "POST", f.URL+c.path, c.header, c.body); status != 200 {
				t.Errorf("second request status %d, want 200 (FailNext(1) is one failure)", status)
			}
		})
	}
}

func TestFailFractionIsExactAndSkipsProbes(t *testing.T) {
	f := Start(t, OpenAI, Config{})
	f.FailFraction(0.3, Fault{Status: 503})
	failed := 0
	for range 20 {
		if status, _, _ := call(t, "POST", f.URL+"/v1/chat/completions", nil, openaiChatBody); status == 503 {
			failed++
		}
		if status, _, _ := call(t, "GET", f.URL+"/v1/models", nil, ""); status != 200 {
			t.Fatalf("probe failed with %d; faults must spare non-inference paths", status)
		}
	}
	if failed != 6 || f.Stats().Faults != 6 {
		t.Fatalf("failed %d of 20 (stats %d), want exactly 6", failed, f.Stats().Faults)
	}
	f.FailFraction(0, Fault{})
	if status, _, _ := call(t, "POST", f.URL+"/v1/chat/completions", nil, openaiChatBody); status != 200 {
		t.Fatalf("after clearing: %d", status)
	}
}

func TestFailNextAllPathsHitsProbes(t *testing.T) {
	f := Start(t, Anthropic, Config{})
	f.FailNext(2, Fault{Status: 500, AllPaths: true})
	if f.PendingFaults() != 2 {
		t.Fatalf("pending %d", f.PendingFaults())
	}
	status, _, _ := call(t, "GET", f.URL+"/v1/models/claude-sonnet-4-5", anthropicHeaders(""), "")
	if status != 500 || f.PendingFaults() != 1 {
		t.Fatalf("probe status %d pending %d", status, f.PendingFaults())
	}
	f.ClearFaults()
	if status, _, _ = call(t, "GET", f.URL+"/v1/models/claude-sonnet-4-5", anthropicHeaders(""), ""); status != 200 {
		t.Fatalf("after ClearFaults: %d", status)
	}
}

func TestStallHoldsUntilClientLeaves(t *testing.T) {
	for proto, c := range streamCalls {
		t.Run(string(proto), func(t *testing.T) {
			f := Start(t, proto, Config{Chunks: 10, StallAfter: 3})
			resp, r := openStream(t, f.URL+c.path, c.header, c.body)
			if _, ok := f.WaitStats(2*time.Second, func(s Stats) bool { return s.Stalls == 1 }); !ok {
				t.Fatal("stream never stalled")
			}
			got := make(chan string, 1)
			go func() { rest, _ := io.ReadAll(r); got <- string(rest) }()
			select {
			case <-got:
				t.Fatal("stream ended during a stall")
			case <-time.After(50 * time.Millisecond):
			}
			resp.Body.Close()
			s, ok := f.WaitStats(2*time.Second, func(s Stats) bool { return s.Cancelled == 1 && s.InFlight == 0 })
			if !ok {
				t.Fatalf("cancellation not observed: %+v", s)
			}
			if req, _ := f.LastRequest(); req.ContentChunks != 3 || req.Outcome != OutcomeCancelled {
				t.Fatalf("recorded %d chunks, outcome %q", req.ContentChunks, req.Outcome)
			}
		})
	}
}

func TestStallForResumes(t *testing.T) {
	f := Start(t, OpenAI, Config{Chunks: 3, StallAfter: 1, StallFor: 20 * time.Millisecond})
	start := time.Now()
	_, _, body := call(t, "POST", f.URL+"/v1/chat/completions", nil, openaiStreamBody)
	if s := summarizeOpenAI(t, parseSSE(t, body, false)); s.text != "tok1 tok2 tok3 " || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("text %q after %v", s.text, time.Since(start))
	}
}

func TestDropAfterTruncatesStream(t *testing.T) {
	for proto, c := range streamCalls {
		t.Run(string(proto), func(t *testing.T) {
			f := Start(t, proto, Config{Chunks: 6, DropAfter: 2})
			resp, r := openStream(t, f.URL+c.path, c.header, c.body)
			defer resp.Body.Close()
			data, err := io.ReadAll(r)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read error %v, want unexpected EOF; got %q", err, data)
			}
			if len(generatedWord.FindAllString(string(data), -1)) != 2 || strings.Contains(string(data), "[DONE]") {
				t.Fatalf("want exactly 2 content deltas and no terminator: %q", data)
			}
			if s, ok := f.WaitStats(time.Second, func(s Stats) bool { return s.Dropped == 1 && s.ConnsClosed >= 1 }); !ok || s.Completed != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestTTFBCancelledByClient(t *testing.T) {
	f := Start(t, OpenAI, Config{TTFB: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.URL+"/v1/chat/completions", strings.NewReader(openaiChatBody))
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	s, ok := f.WaitStats(2*time.Second, func(s Stats) bool { return s.Cancelled == 1 && s.ConnsClosed == s.ConnsOpened })
	if !ok || s.LastCancel.IsZero() {
		t.Fatalf("stats %+v", s)
	}
}

func TestChunkDelayPacesStream(t *testing.T) {
	f := Start(t, OpenAI, Config{Chunks: 4, ChunkDelay: 15 * time.Millisecond})
	start := time.Now()
	call(t, "POST", f.URL+"/v1/chat/completions", nil, openaiStreamBody)
	if elapsed := time.Since(start); elapsed < 45*time.Millisecond {
		t.Fatalf("4 chunks with 3 gaps of 15ms took %v", elapsed)
	}
}

func TestRecordedRequestsAndSightings(t *testing.T) {
	f := Start(t, OpenAI, Config{APIKey: key, KeepRequests: 2})
	f.Watch("sk-consumer-secret", key)
	call(t, "GET", f.URL+"/v1/models?x=1", bearer(key), "")
	call(t, "POST", f.URL+"/v1/chat/completions", map[string]string{"Authorization": "Bearer " + key, "X-Trace": "t1"}, openaiStreamBody)
	call(t, "POST", f.URL+"/v1/chat/completions", bearer(key), openaiChatBody)
	reqs := f.Requests()
	if len(reqs) != 2 || reqs[0].Seq != 2 || reqs[1].Seq != 3 {
		t.Fatalf("kept %d requests, want the last 2", len(reqs))
	}
	first := reqs[0]
	if first.Method != "POST" || first.Header.Get("X-Trace") != "t1" || first.Model != "gpt-4o-mini" ||
		!first.Stream || first.Outcome != OutcomeOK || !strings.Contains(string(first.Body), `"stream":true`) {
		t.Fatalf("recorded %+v", first)
	}
	if f.Count("/v1/chat/completions") != 2 || f.Count("/v1/models") != 1 || len(f.RequestsTo("/v1/models")) != 0 {
		t.Fatalf("counts %v", f.Counts())
	}
	if f.Sightings(key) != 3 || f.Sightings("sk-consumer-secret") != 0 {
		t.Fatalf("sightings provider %d consumer %d", f.Sightings(key), f.Sightings("sk-consumer-secret"))
	}
	f.ResetRecords()
	if f.Stats().Requests != 0 || len(f.Requests()) != 0 || f.Sightings(key) != 0 {
		t.Fatal("ResetRecords left state behind")
	}
}

func TestHeaderOverrides(t *testing.T) {
	f := Start(t, Anthropic, Config{})
	c := streamCalls[Anthropic]
	h := anthropicHeaders("")
	h[HeaderChunks] = "2"
	_, _, body := call(t, "POST", f.URL+c.path, h, c.body)
	if s := summarizeAnthropic(t, parseSSE(t, body, false)); s.text != "tok1 tok2 " || s.output != 2 {
		t.Fatalf("text %q output %d", s.text, s.output)
	}
	h[HeaderStatus], h[HeaderRetryAfter] = "429", "9"
	status, hdr, _ := call(t, "GET", f.URL+"/v1/models", h, "")
	if status != 429 || hdr.Get("Retry-After") != "9" {
		t.Fatalf("status %d retry-after %q", status, hdr.Get("Retry-After"))
	}
}

func TestUsageLedgerUnderConcurrentUpdates(t *testing.T) {
	f := Start(t, OpenAI, Config{Usage: Usage{Prompt: 10, Completion: 5}})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Update(func(c *Config) { c.ChunkDelay = time.Duration(i%2) * time.Millisecond })
			body := openaiChatBody
			if i%2 == 0 {
				body = openaiStreamBody
			}
			call(t, "POST", f.URL+"/v1/chat/completions", nil, body)
		}()
	}
	wg.Wait()
	s := f.Stats()
	if s.Completed != 20 || s.Reported != (Usage{Prompt: 200, Completion: 100}) || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestParseProtocol(t *testing.T) {
	for _, p := range Protocols {
		if got, err := ParseProtocol(strings.ToUpper(string(p))); err != nil || got != p {
			t.Errorf("ParseProtocol(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := ParseProtocol("bedrock"); err == nil {
		t.Error("unknown protocol accepted")
	}
}
