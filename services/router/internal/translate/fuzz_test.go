package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/switchyard/switchyard/services/router/internal/sse"
)

// FuzzDecodeChatRequest: any body either decodes and translates for every
// protocol, or fails with an OpenAI-shaped *Error; nothing panics.
func FuzzDecodeChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeChatRequest(body)
		if err != nil {
			assertEdgeError(t, err)
			return
		}
		for _, p := range []string{ProtocolOpenAI, ProtocolAzure, ProtocolAnthropic, ProtocolGemini} {
			chat, _ := ForProtocol(p, OpenAIConfig{})
			up, err := chat.Request(req, goldenTarget)
			if err != nil {
				assertEdgeError(t, err)
				continue
			}
			if !json.Valid(up.Body) {
				t.Fatalf("%s produced invalid upstream JSON: %s", p, up.Body)
			}
		}
	})
}

func assertEdgeError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status > 599 || !json.Valid(e.JSON()) {
		t.Fatalf("not an OpenAI-shaped edge error: %v", err)
	}
}

func FuzzAnthropicStream(f *testing.F) { fuzzStream(f, ProtocolAnthropic) }
func FuzzGeminiStream(f *testing.F)    { fuzzStream(f, ProtocolGemini) }
func FuzzOpenAIStream(f *testing.F)    { fuzzStream(f, ProtocolOpenAI) }

// fuzzStream feeds arbitrary upstream SSE through a stream translator: every
// emitted chunk is valid JSON, and usage is never negative, never
// inconsistent, and never above what the upstream could have reported (the
// sum of every integer in the input bounds any count derived from it).
func fuzzStream(f *testing.F, protocol string) {
	f.Add([]byte("data: {}\n\n"))
	req, err := DecodeChatRequest([]byte(`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	chat, _ := ForProtocol(protocol, OpenAIConfig{})
	f.Fuzz(func(t *testing.T, upstream []byte) {
		s := chat.NewStream(req)
		emit := func(chunk []byte) error {
			if !json.Valid(chunk) {
				t.Fatalf("invalid chunk: %s", chunk)
			}
			return nil
		}
		rd := sse.NewReader(bytes.NewReader(upstream), 1<<16)
		for {
			ev, err := rd.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			if err := s.Event(ev, emit); err != nil {
				assertEdgeError(t, err)
				break
			}
		}
		usage, err := s.Finish(emit)
		if err != nil {
			assertEdgeError(t, err)
		}
		checkUsage(t, usage, integerSum(upstream))
	})
}

func checkUsage(t *testing.T, u Usage, bound int64) {
	t.Helper()
	for _, v := range []int64{u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.ReasoningTokens} {
		if v < 0 || v > bound {
			t.Fatalf("usage %+v outside [0, %d]", u, bound)
		}
	}
	if u.TotalTokens != addSat(u.PromptTokens, u.CompletionTokens) || u.CachedTokens > u.PromptTokens || u.ReasoningTokens > u.CompletionTokens {
		t.Fatalf("inconsistent usage %+v", u)
	}
}

// integerSum adds every run of digits in b, saturating at MaxInt64.
func integerSum(b []byte) int64 {
	var sum, cur int64
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			cur = addSat(min(cur, (1<<63-1)/10)*10, int64(b[i]-'0'))
			continue
		}
		sum, cur = addSat(sum, cur), 0
	}
	return sum
}
