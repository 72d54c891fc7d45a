package provider

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

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
