package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

var update = flag.Bool("update", false, "rewrite golden want_* files")

// goldenTarget is the route every golden case resolves to.
var goldenTarget = Target{Model: "upstream-model", AzureDeployment: "my-deploy", AzureAPIVersion: "2024-10-21"}

var goldenProtocols = map[string]string{
	"openai": ProtocolOpenAI, "azure": ProtocolAzure, "anthropic": ProtocolAnthropic, "gemini": ProtocolGemini,
}

// deterministic replaces the clock and id source so golden output is stable.
func deterministic(t testing.TB) {
	oldClock, oldID := clock, newID
	n := 0
	clock = func() int64 { return 1767225600 }
	newID = func(prefix string) string { n++; return prefix + "test" + strconv.Itoa(n) }
	t.Cleanup(func() { clock, newID = oldClock, oldID })
}

// TestGolden runs every case under testdata/golden/<protocol>/<case>/:
// request.json → want_upstream_request.json; upstream_response.json (status
// from upstream_status.txt, default 200) → want_response.json;
// upstream_stream.txt → want_chunks.txt. Run with -update to regenerate.
func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, dir := range dirs {
		protocol := goldenProtocols[filepath.Base(filepath.Dir(dir))]
		t.Run(strings.TrimPrefix(dir, "testdata/golden/"), func(t *testing.T) {
			deterministic(t)
			chat, ok := ForProtocol(protocol, OpenAIConfig{})
			if !ok {
				t.Fatalf("unknown protocol dir %s", dir)
			}
			req, reqOut := goldenRequest(t, chat, dir)
			checkGolden(t, filepath.Join(dir, "want_upstream_request.json"), reqOut)
			if req == nil {
				return
			}
			if body, err := os.ReadFile(filepath.Join(dir, "upstream_response.json")); err == nil {
				checkGolden(t, filepath.Join(dir, "want_response.json"), goldenResponse(chat, req, readStatus(t, dir), body))
			}
			if stream, err := os.ReadFile(filepath.Join(dir, "upstream_stream.txt")); err == nil {
				checkGolden(t, filepath.Join(dir, "want_chunks.txt"), runStream(chat.NewStream(req), stream))
			}
		})
	}
}

func goldenRequest(t *testing.T, chat Chat, dir string) (*ChatRequest, []byte) {
	body, err := os.ReadFile(filepath.Join(dir, "request.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeChatRequest(body)
	if err != nil {
		return nil, errorJSON(err)
	}
	up, err := chat.Request(req, goldenTarget)
	if err != nil {
		return req, errorJSON(err)
	}
	out := struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Query  string          `json:"query,omitempty"`
		Body   json.RawMessage `json:"body"`
	}{up.Method, up.Path, up.Query.Encode(), up.Body}
	return req, indentJSON(out)
}

func goldenResponse(chat Chat, req *ChatRequest, status int, body []byte) []byte {
	resp, usage, err := chat.Response(req, status, body)
	if err != nil {
		return errorJSON(err)
	}
	return indentJSON(struct {
		Body  json.RawMessage `json:"body"`
		Usage Usage           `json:"usage"`
	}{resp, usage})
}

// errorJSON renders an *Error with its status and retry facts for goldens.
func errorJSON(err error) []byte {
	e := AsError(err)
	return indentJSON(struct {
		Status       int             `json:"status"`
		Retryable    bool            `json:"retryable,omitempty"`
		Quota        bool            `json:"quota,omitempty"`
		UpstreamAuth bool            `json:"upstream_auth,omitempty"`
		RetryAfter   string          `json:"retry_after,omitempty"`
		Body         json.RawMessage `json:"body"`
	}{e.Status, e.Retryable, e.Quota, e.UpstreamAuth, durationString(e), e.JSON()})
}

func durationString(e *Error) string {
	if e.RetryAfter == 0 {
		return ""
	}
	return e.RetryAfter.String()
}

// runStream feeds an upstream SSE body through a Stream and renders what
// the edge would write: data lines, then the usage and error outcome.
func runStream(s Stream, upstream []byte) []byte {
	var out bytes.Buffer
	emit := func(chunk []byte) error {
		if !json.Valid(chunk) {
			return fmt.Errorf("invalid chunk JSON: %s", chunk)
		}
		fmt.Fprintf(&out, "data: %s\n", chunk)
		return nil
	}
	rd := sse.NewReader(bytes.NewReader(upstream), 0)
	var streamErr error
	for streamErr == nil {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			streamErr = err
			break
		}
		streamErr = s.Event(ev, emit)
	}
	usage, finishErr := s.Finish(emit)
	if streamErr == nil {
		streamErr = finishErr
	}
	usageJSON, _ := json.Marshal(usage)
	fmt.Fprintf(&out, "# usage: %s\n", usageJSON)
	if streamErr != nil {
		fmt.Fprintf(&out, "# error: %d %s\n", AsError(streamErr).Status, AsError(streamErr).JSON())
	} else {
		out.WriteString("data: [DONE]\n")
	}
	return out.Bytes()
}

func readStatus(t *testing.T, dir string) int {
	raw, err := os.ReadFile(filepath.Join(dir, "upstream_status.txt"))
	if err != nil {
		return 200
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return status
}

func indentJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		panic(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden %s (run with -update): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
