package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    Protocol
		wantErr bool
	}{
		{"OPENAI_V1", OpenAIV1, false},
		{"ANTHROPIC_V1", AnthropicV1, false},
		{"GEMINI_V1_BETA", GeminiV1Beta, false},
		{"AZURE_OPENAI", AzureOpenAI, false},
		{"  openai_v1 ", OpenAIV1, false},
		{"OPENAI_V2", "", true},
		{"", "", true},
		{"GEMINI", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, ErrUnknownProtocol) {
				t.Errorf("error %v does not wrap ErrUnknownProtocol", err)
			}
		})
	}
}

func TestAllIsACopyOfEveryValidProtocol(t *testing.T) {
	all := All()
	if len(all) != 4 {
		t.Fatalf("All() = %v, want 4 protocols", all)
	}
	for _, p := range all {
		if !p.Valid() || p.CredentialHeader() == "" {
			t.Errorf("%s: Valid=%v CredentialHeader=%q", p, p.Valid(), p.CredentialHeader())
		}
	}
	all[0] = "MUTATED"
	if All()[0] != OpenAIV1 {
		t.Error("mutating All()'s result changed the package's list")
	}
}

func TestUnmarshalTextRejectsUnknownNames(t *testing.T) {
	var ok struct{ P Protocol }
	if err := json.Unmarshal([]byte(`{"P":"gemini_v1_beta"}`), &ok); err != nil || ok.P != GeminiV1Beta {
		t.Fatalf("got %q, %v; want GEMINI_V1_BETA", ok.P, err)
	}
	var bad struct{ P Protocol }
	if err := json.Unmarshal([]byte(`{"P":"SOAP"}`), &bad); !errors.Is(err, ErrUnknownProtocol) {
		t.Fatalf("got %v, want ErrUnknownProtocol", err)
	}
}

func TestSetAuth(t *testing.T) {
	const key = "secret-key-123"
	cases := []struct {
		protocol Protocol
		key      string
		want     http.Header
	}{
		{OpenAIV1, key, http.Header{"Authorization": {"Bearer " + key}}},
		{AnthropicV1, key, http.Header{"X-Api-Key": {key}, "Anthropic-Version": {"2023-06-01"}}},
		{GeminiV1Beta, key, http.Header{"X-Goog-Api-Key": {key}}},
		{AzureOpenAI, key, http.Header{"Api-Key": {key}}},
		{OpenAIV1, "", http.Header{}},
		{AnthropicV1, "", http.Header{"Anthropic-Version": {"2023-06-01"}}},
		{Protocol("UNKNOWN"), key, http.Header{}},
	}
	for _, tc := range cases {
		t.Run(string(tc.protocol)+"/"+tc.key, func(t *testing.T) {
			h := consumerHeaders()
			tc.protocol.SetAuth(h, tc.key)
			h.Del("Accept") // the one non-credential header the consumer sent
			if !headersEqual(h, tc.want) {
				t.Fatalf("headers %v, want %v", h, tc.want)
			}
		})
	}
}

// consumerHeaders is what an inbound request might carry: the consumer's own
// keys in every provider's header, plus an ordinary header.
func consumerHeaders() http.Header {
	return http.Header{
		"Authorization":  {"Bearer consumer-key"},
		"X-Api-Key":      {"consumer-key"},
		"X-Goog-Api-Key": {"consumer-key"},
		"Api-Key":        {"consumer-key"},
		"Cookie":         {"session=consumer"},
		"Accept":         {"application/json"},
	}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestStripInboundCredentials(t *testing.T) {
	h := consumerHeaders()
	h.Set("Proxy-Authorization", "Basic eA==")
	StripInboundCredentials(h)
	if !headersEqual(h, http.Header{"Accept": {"application/json"}}) {
		t.Fatalf("after strip: %v", h)
	}
	for _, name := range InboundCredentialHeaders() {
		if http.CanonicalHeaderKey(name) != name {
			t.Errorf("%q is not in canonical form", name)
		}
	}
}

func TestStripCredentialQuery(t *testing.T) {
	q := url.Values{"key": {"AIza-consumer"}, "alt": {"sse"}}
	StripCredentialQuery(q)
	if q.Has("key") || q.Get("alt") != "sse" {
		t.Fatalf("after strip: %v", q)
	}
}

func TestRemoveHopByHop(t *testing.T) {
	h := http.Header{
		"Connection":        {"keep-alive, X-Internal-Trace", "Upgrade"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Te":                {"trailers"},
		"Upgrade":           {"websocket"},
		"X-Internal-Trace":  {"abc"},
		"Content-Type":      {"application/json"},
	}
	RemoveHopByHop(h)
	if !headersEqual(h, http.Header{"Content-Type": {"application/json"}}) {
		t.Fatalf("after removal: %v", h)
	}
	if !slices.Contains(HopByHopHeaders(), "Transfer-Encoding") {
		t.Error("HopByHopHeaders lacks Transfer-Encoding")
	}
}
