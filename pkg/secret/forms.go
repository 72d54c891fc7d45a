package secret

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// minFragmentLen is the shortest aligned base64 fragment worth masking.
// Fragments shorter than this match ordinary text too often; the complete
// encodings are always masked whatever their length.
const minFragmentLen = 8

var base64Encodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding,
	base64.URLEncoding, base64.RawURLEncoding,
}

// encodedForms lists every string the Redactor hides for one secret value.
func encodedForms(value string) []string {
	forms := []string{value}
	for _, enc := range base64Encodings {
		forms = append(forms, enc.EncodeToString([]byte(value)))
	}
	forms = append(forms, base64Fragments(value, base64.RawStdEncoding)...)
	forms = append(forms, base64Fragments(value, base64.RawURLEncoding)...)
	forms = append(forms, percentForms(value)...)
	forms = append(forms, jsonEscaped(value))
	return dedupe(forms)
}

// base64Fragments returns, for each of the three byte alignments a secret can
// have inside a longer base64 stream (for example "Basic " +
// base64("user:"+key)), the run of characters that depends only on the
// secret's bytes. Those characters appear verbatim whatever surrounds the
// secret.
func base64Fragments(value string, enc *base64.Encoding) []string {
	var out []string
	for offset := range 3 {
		padded := make([]byte, offset+len(value))
		copy(padded[offset:], value)
		encoded := enc.EncodeToString(padded)
		// Character i encodes bits [6i, 6i+6); keep those wholly inside the
		// secret's bits [8*offset, 8*(offset+len)).
		first := (8*offset + 5) / 6
		last := (8 * (offset + len(value))) / 6 // exclusive
		if last-first >= minFragmentLen {
			out = append(out, encoded[first:last])
		}
	}
	return out
}

// percentForms returns the query- and path-escaped forms with upper-case hex
// (what Go and most libraries emit) and with lower-case hex (also valid).
func percentForms(value string) []string {
	var out []string
	for _, escaped := range []string{url.QueryEscape(value), url.PathEscape(value), percentEncodeAll(value)} {
		out = append(out, escaped, lowerHexEscapes(escaped))
	}
	return out
}

// percentEncodeAll escapes every byte that is not unreserved (RFC 3986),
// including the sub-delimiters PathEscape leaves alone, with %20 for space.
func percentEncodeAll(value string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// lowerHexEscapes rewrites the two hex digits after each '%' in lower case.
func lowerHexEscapes(escaped string) string {
	b := []byte(escaped)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLowerASCII(b[i+1])
			b[i+2] = toLowerASCII(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// jsonEscaped is the value as it appears inside a JSON string (quotes, '<',
// '>', '&' and control characters escaped), which is how it shows up in
// JSON log lines.
func jsonEscaped(value string) string {
	encoded, err := json.Marshal(value)
	if err != nil {
		return value
	}
	return string(encoded[1 : len(encoded)-1])
}

func dedupe(forms []string) []string {
	seen := make(map[string]bool, len(forms))
	out := forms[:0]
	for _, f := range forms {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
