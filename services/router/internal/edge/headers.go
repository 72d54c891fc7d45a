package edge

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/provider"
)

// checkHeaders refuses oversized headers with 431 and header names with
// underscores with 400, both as OpenAI JSON. The listener allows twice
// MaxHeaderBytes, so only requests beyond that get net/http's own
// plain-text 431.
//
// Underscored names are refused because proxies disagree on them (nginx
// drops them, others map '_' to '-'), which lets a client smuggle a header
// past a check made under its other spelling.
func (s *Server) checkHeaders(r *http.Request) error {
	size := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 4
	for name, values := range r.Header {
		if strings.IndexByte(name, '_') >= 0 {
			return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_header_name",
				Message: "Header names containing '_' are not accepted (" + quoteName(name) + "); use '-' instead."}
		}
		for _, v := range values {
			size += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	if size > s.cfg.MaxHeaderBytes {
		return &apiError{Status: http.StatusRequestHeaderFieldsTooLarge, Type: typeInvalidRequest,
			Code:    "request_header_fields_too_large",
			Message: "The request headers exceed the gateway's limit of " + strconv.Itoa(s.cfg.MaxHeaderBytes) + " bytes."}
	}
	return nil
}

// quoteName shows a header name in an error, shortened: names are not
// secret, but a client should not be able to make the edge echo kilobytes.
func quoteName(name string) string {
	const most = 64
	if len(name) > most {
		name = name[:most] + "…"
	}
	return strconv.Quote(name)
}

// Inbound headers forwarded upstream. Everything else, and in particular
// every credential (Authorization, x-api-key, api-key, x-goog-api-key,
// cookies), every hop-by-hop header and every arbitrary x-* header, stays
// at the edge.
var (
	// forwardedHeaders go to translated calls (chat, completions,
	// embeddings), whose Content-Type and Accept the edge sets itself.
	forwardedHeaders = []string{"Accept-Language", "Openai-Beta", "Anthropic-Beta"}
	// passthroughHeaders go to passthrough calls, which carry the client's
	// own body and content negotiation.
	passthroughHeaders = []string{"Content-Type", "Accept", "Accept-Language", "Openai-Beta",
		"Anthropic-Beta", "Anthropic-Version", "Idempotency-Key"}
)

// copyAllowed copies the allowlisted names from src to dst.
func copyAllowed(dst, src http.Header, names []string) {
	for _, name := range names {
		if v := src.Values(name); len(v) > 0 {
			dst[name] = append([]string(nil), v...)
		}
	}
}

// setUpstreamHeaders builds an upstream request's headers: the allowlisted
// inbound ones, then the provider credential (SetAuth also strips any
// inbound credential header an allowlist might ever let through).
func setUpstreamHeaders(dst, inbound http.Header, allowed []string, protocol, key string) {
	copyAllowed(dst, inbound, allowed)
	provider.RemoveHopByHop(dst)
	provider.Protocol(protocol).SetAuth(dst, key)
}

// copyResponseHeaders copies an upstream's response headers for a
// passthrough answer, minus hop-by-hop ones and the length (the edge may
// re-frame the body).
func copyResponseHeaders(dst, src http.Header) {
	for name, values := range src {
		dst[name] = append([]string(nil), values...)
	}
	provider.RemoveHopByHop(dst)
	dst.Del("Content-Length")
	dst.Del("Set-Cookie")
}
