// Package provider holds what Switchyard knows about upstream inference
// providers and is shared by every service that talks to them: the protocol
// names, how each protocol carries its credential, which inbound headers must
// never reach an upstream, and how an upstream's answer (or failure to answer)
// is diagnosed. Healthcheck uses the diagnosis for probes, the router for
// passive health; keeping it here means both say the same thing.
package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Protocol names the wire protocol an upstream speaks. It selects the request
// body shape, the probe endpoint and the authentication header.
type Protocol string

// The protocols Switchyard can speak to an upstream.
const (
	OpenAIV1     Protocol = "OPENAI_V1"
	AnthropicV1  Protocol = "ANTHROPIC_V1"
	GeminiV1Beta Protocol = "GEMINI_V1_BETA"
	AzureOpenAI  Protocol = "AZURE_OPENAI"
)

// AnthropicVersion is the API version header value Anthropic requires on every
// request; the official Go SDK pins the same value.
const AnthropicVersion = "2023-06-01"

// ErrUnknownProtocol is returned (wrapped) by Parse for a name that is not one
// of All().
var ErrUnknownProtocol = errors.New("unknown API protocol")

var allProtocols = []Protocol{OpenAIV1, AnthropicV1, GeminiV1Beta, AzureOpenAI}

// All returns every supported protocol in a stable order. The slice is a copy.
func All() []Protocol {
	out := make([]Protocol, len(allProtocols))
	copy(out, allProtocols)
	return out
}

// Parse converts an operator-supplied name into a Protocol. Surrounding spaces
// and letter case are forgiven because operators type these names by hand.
func Parse(name string) (Protocol, error) {
	candidate := Protocol(strings.ToUpper(strings.TrimSpace(name)))
	if candidate.Valid() {
		return candidate, nil
	}
	names := make([]string, len(allProtocols))
	for i, p := range allProtocols {
		names[i] = string(p)
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownProtocol, name, strings.Join(names, ", "))
}

// Valid reports whether p is one of the supported protocols.
func (p Protocol) Valid() bool {
	for _, known := range allProtocols {
		if p == known {
			return true
		}
	}
	return false
}

// String returns the protocol's wire name.
func (p Protocol) String() string { return string(p) }

// UnmarshalText lets JSON and flag decoding reject unknown protocol names.
func (p *Protocol) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// CredentialHeader is the header that carries the provider key for p, in
// canonical form ("" for an unknown protocol).
func (p Protocol) CredentialHeader() string {
	switch p {
	case OpenAIV1:
		return "Authorization"
	case AnthropicV1:
		return "X-Api-Key"
	case GeminiV1Beta:
		return "X-Goog-Api-Key"
	case AzureOpenAI:
		return "Api-Key"
	}
	return ""
}

// SetAuth writes the provider credential for protocol p into h. Every inbound
// credential header is removed first, so a consumer's own key can never ride
// along next to the injected one even if the caller forgot to strip it. An
// empty key leaves the request unauthenticated (healthcheck uses that to test
// whether an upstream enforces authentication at all); protocol headers that
// are not secrets, such as anthropic-version, are still set.
func (p Protocol) SetAuth(h http.Header, key string) {
	StripInboundCredentials(h)
	if p == AnthropicV1 {
		h.Set("Anthropic-Version", AnthropicVersion)
	}
	if key == "" {
		return
	}
	switch p {
	case OpenAIV1:
		h.Set("Authorization", "Bearer "+key)
	case AnthropicV1, GeminiV1Beta, AzureOpenAI:
		h.Set(p.CredentialHeader(), key)
	}
}

// inboundCredentialHeaders are the headers a consumer may use to carry its own
// key (for the edge, or because its SDK was pointed at a provider). Any of
// them reaching an upstream would leak the consumer key to the provider, or
// let a consumer override the operator's credential. Cookie and
// Proxy-Authorization are session secrets of the same kind.
var inboundCredentialHeaders = []string{
	"Authorization",
	"Proxy-Authorization",
	"X-Api-Key",
	"X-Goog-Api-Key",
	"Api-Key",
	"Cookie",
}

// credentialQueryParams are URL query parameters that carry a key: Gemini
// accepts ?key= as an alternative to x-goog-api-key.
var credentialQueryParams = []string{"key"}

// hopByHopHeaders apply to a single transport hop and must not be forwarded
// by a proxy (RFC 9110 §7.6.1, plus the non-standard Proxy-Connection and
// Keep-Alive that old clients still send).
var hopByHopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// InboundCredentialHeaders returns, in canonical form, the inbound header
// names the edge must remove before forwarding a request upstream. The slice
// is a copy.
func InboundCredentialHeaders() []string { return clone(inboundCredentialHeaders) }

// CredentialQueryParams returns the query parameter names that carry a key and
// must be removed from an inbound URL before forwarding. The slice is a copy.
func CredentialQueryParams() []string { return clone(credentialQueryParams) }

// HopByHopHeaders returns the fixed hop-by-hop header names in canonical form.
// RemoveHopByHop also removes the headers a Connection header names. The slice
// is a copy.
func HopByHopHeaders() []string { return clone(hopByHopHeaders) }

// StripInboundCredentials deletes every inbound credential header from h.
func StripInboundCredentials(h http.Header) {
	for _, name := range inboundCredentialHeaders {
		h.Del(name)
	}
}

// StripCredentialQuery deletes every credential query parameter from q.
func StripCredentialQuery(q url.Values) {
	for _, name := range credentialQueryParams {
		q.Del(name)
	}
}

// RemoveHopByHop deletes the hop-by-hop headers from h, including any header
// listed in a Connection header, which a sender uses to mark extra headers as
// hop-by-hop.
func RemoveHopByHop(h http.Header) {
	for _, value := range h.Values("Connection") {
		for _, token := range strings.Split(value, ",") {
			if name := textproto.TrimString(token); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHopHeaders {
		h.Del(name)
	}
}

func clone(names []string) []string {
	out := make([]string, len(names))
	copy(out, names)
	return out
}
