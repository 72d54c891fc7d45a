package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/tests/bench/loadgen"
)

// Target names: the paths a request can take to the fake upstream.
const (
	targetDirect     = "direct"     // straight to the fake
	targetBare       = "bare"       // through bareproxy (httputil.ReverseProxy)
	targetSwitchyard = "switchyard" // through the Switchyard edge
	// targetSwitchyardB is a second Switchyard (-b-bin, -b-args) for A/B runs.
	targetSwitchyardB = "switchyard-b"
)

// Scenario names.
const (
	scenarioChat      = "chat"             // non-streaming chat completion
	scenarioStream    = "stream"           // streamed chat, 200 chunks
	scenarioAnthropic = "anthropic-stream" // OpenAI edge → Anthropic upstream, 200 chunks
)

// fakeKey is the fake upstreams' provider key (not a secret).
const fakeKey = "sk-bench-fake"

// scenario is one workload and the fake upstream behind it.
type scenario struct {
	name     string
	up       upstream
	stream   bool
	rate     float64 // open-loop requests per second
	bareBase int     // bareproxy listener port
}

const prompt = `"messages":[{"role":"system","content":"You are a concise assistant."},` +
	`{"role":"user","content":"Write a haiku about load balancers and queues."}],"max_tokens":256`

// openAIBody is the OpenAI chat request the edge (and OpenAI fakes) get.
func openAIBody(model string, stream bool) []byte {
	return fmt.Appendf(nil, `{"model":%q,%s,"stream":%t}`, model, prompt, stream)
}

// anthropicBody is the native Anthropic Messages request for direct/bare.
func anthropicBody(model string) []byte {
	return fmt.Appendf(nil, `{"model":%q,"system":"You are a concise assistant.","max_tokens":256,"stream":true,`+
		`"messages":[{"role":"user","content":"Write a haiku about load balancers and queues."}]}`, model)
}

// request builds what target receives in scenario s. Switchyard always
// gets the OpenAI request; direct and bare get the upstream's own
// protocol, since a bare proxy cannot translate.
func (s scenario) request(target string, edgePort int, consumerKey string) loadgen.Request {
	h := http.Header{"Content-Type": {"application/json"}}
	native := s.up.fakeProtocol == "anthropic" && target != targetSwitchyard && target != targetSwitchyardB
	r := loadgen.Request{Header: h, Body: openAIBody(s.up.model, s.stream), ChunkStamps: s.stream}
	path := "/v1/chat/completions"
	if native {
		r.Body, path = anthropicBody(s.up.model), "/v1/messages"
	}
	switch target {
	case targetDirect:
		r.URL = fmt.Sprintf("http://127.0.0.1:%d%s", s.up.port, path)
		setUpstreamAuth(h, s.up.fakeProtocol)
	case targetBare:
		r.URL = fmt.Sprintf("http://127.0.0.1:%d%s", s.bareBase, path)
		h.Set("Authorization", "Bearer consumer-key")
	default:
		r.URL = fmt.Sprintf("http://127.0.0.1:%d%s", edgePort, path)
		h.Set("Authorization", "Bearer "+consumerKey)
	}
	switch {
	case native:
		r.ExpectTail = "message_stop"
	case s.stream:
		r.ExpectTail = "[DONE]"
	}
	return r
}

func setUpstreamAuth(h http.Header, fakeProtocol string) {
	if fakeProtocol == "anthropic" {
		h.Set("X-Api-Key", fakeKey)
		h.Set("Anthropic-Version", "2023-06-01")
		return
	}
	h.Set("Authorization", "Bearer "+fakeKey)
}

// scenarios returns the named scenarios with ports from base.
func scenarios(names []string, base int, rate, streamRate float64) ([]scenario, error) {
	all := map[string]scenario{
		scenarioChat: {name: scenarioChat, rate: rate, bareBase: base + 101,
			up: upstream{name: "bench-chat", model: "bench-chat", protocol: "OPENAI_V1", fakeProtocol: "openai", port: base + 1, chunks: 4}},
		scenarioStream: {name: scenarioStream, stream: true, rate: streamRate, bareBase: base + 102,
			up: upstream{name: "bench-stream", model: "bench-stream", protocol: "OPENAI_V1", fakeProtocol: "openai", port: base + 2, chunks: 200}},
		scenarioAnthropic: {name: scenarioAnthropic, stream: true, rate: streamRate, bareBase: base + 103,
			up: upstream{name: "bench-claude", model: "bench-claude", protocol: "ANTHROPIC_V1", fakeProtocol: "anthropic", port: base + 3, chunks: 200}},
	}
	var out []scenario
	for _, n := range names {
		s, ok := all[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (want %s, %s, %s)", n, scenarioChat, scenarioStream, scenarioAnthropic)
		}
		out = append(out, s)
	}
	return out, nil
}
