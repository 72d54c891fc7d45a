package fakes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data string
}

// parseSSE parses a complete SSE body per the WHATWG rules the SDKs follow:
// \n, \r\n or \r line ends, `:` comments, `event:` names, joined `data:`
// lines. It fails the test on a line that is neither (e.g. Gemini's bare
// error JSON) unless allowBare is set, in which case the line becomes an
// event named "bare".
func parseSSE(t testing.TB, body []byte, allowBare bool) []sseEvent {
	t.Helper()
	normalized := strings.ReplaceAll(strings.ReplaceAll(string(body), "\r\n", "\n"), "\r", "\n")
	var events []sseEvent
	var cur sseEvent
	var data []string
	for _, line := range strings.Split(normalized, "\n") {
		switch {
		case line == "":
			if len(data) > 0 || cur.Name != "" {
				cur.Data = strings.Join(data, "\n")
				events = append(events, cur)
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			cur.Name = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		case allowBare && json.Valid([]byte(line)):
			events = append(events, sseEvent{Name: "bare", Data: line})
		default:
			t.Fatalf("invalid SSE line %q", line)
		}
	}
	return events
}

// call sends one request to the fake and returns status, headers and body.
func call(t testing.TB, method, url string, header map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, data
}

// object decodes a JSON object or fails the test.
func object(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, data)
	}
	return m
}

// dig walks nested maps and arrays: dig(m, "error", "code"), dig(m, "data", 0, "id").
func dig(v any, path ...any) any {
	for _, p := range path {
		switch key := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			a, ok := v.([]any)
			if !ok || key >= len(a) {
				return nil
			}
			v = a[key]
		}
	}
	return v
}

// num reads a JSON number as int (0 when absent).
func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// openStream starts a streaming request and returns the response for
// incremental reading; the caller closes the body.
func openStream(t testing.TB, url string, header map[string]string, body string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, bufio.NewReader(resp.Body)
}

// readEvents reads n data events from a live stream.
func readEvents(t testing.TB, r *bufio.Reader, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		if rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			out = append(out, rest)
		}
	}
	return out
}

const openaiChatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

const openaiStreamBody = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},` +
	`"messages":[{"role":"user","content":"hi"}]}`

func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }
