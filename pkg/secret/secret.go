// Package secret holds provider and consumer keys in a type that cannot be
// printed, logged or marshalled by accident, and a Redactor that scrubs
// registered secrets (and their common encodings) out of arbitrary text.
//
// Reveal is the only way to get the value back; grep for it to audit every
// place a key leaves the type.
package secret

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what every printing and marshalling path shows instead of a
// non-empty secret.
const Redacted = "[REDACTED]"

// ErrRedactedPlaceholder is returned when text being decoded into a Secret
// is the redaction placeholder itself: storing "[REDACTED]" as a key would
// silently replace a real key after a marshal/unmarshal round trip.
var ErrRedactedPlaceholder = errors.New("secret: refusing to decode the redaction placeholder " + Redacted + " as a secret value")

// Secret is a string that prints as [REDACTED] through fmt (every verb),
// encoding/json, encoding.TextMarshaler and log/slog. The zero value is the
// empty secret and prints as an empty string, so "no key configured" stays
// visible in diagnostics.
//
// The value is captured in a closure on purpose: fmt cannot call methods on
// unexported struct fields and would print a nested string (or the target
// of a nested pointer, on a bad verb) verbatim, but it can only ever print a
// func as an address. So even a Secret in an unexported field of another
// struct does not leak.
type Secret struct {
	value func() string
}

// New wraps value. An empty value gives the zero Secret.
func New(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{value: func() string { return value }}
}

// Reveal returns the plaintext. Call it only where the key must leave the
// process (an outbound auth header, an encryption call).
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return s.value()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool {
	return s.value == nil
}

// Len returns the length of the plaintext in bytes, which is safe to show.
func (s Secret) Len() int {
	return len(s.Reveal())
}

// Equal compares two secrets in constant time (for equal lengths), so a
// comparison does not leak how many leading bytes matched.
func (s Secret) Equal(other Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(other.Reveal())) == 1
}

func (s Secret) placeholder() string {
	if s.IsZero() {
		return ""
	}
	return Redacted
}

// String implements fmt.Stringer.
func (s Secret) String() string {
	return s.placeholder()
}

// GoString implements fmt.GoStringer for %#v.
func (s Secret) GoString() string {
	return fmt.Sprintf("secret.Secret(%q)", s.placeholder())
}

// Format implements fmt.Formatter so that every verb, width and flag
// (%s %v %+v %#v %q %x %X %d ...) prints the placeholder, never the value.
func (s Secret) Format(f fmt.State, verb rune) {
	var out string
	switch {
	case verb == 'v' && f.Flag('#'):
		out = s.GoString()
	case verb == 'q':
		out = fmt.Sprintf("%q", s.placeholder())
	default:
		out = s.placeholder()
	}
	_, _ = fmt.Fprint(f, out)
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%q", s.placeholder()), nil
}

// MarshalText implements encoding.TextMarshaler (YAML, TOML, map keys).
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(s.placeholder()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler so configuration files
// can carry a key. JSON strings use it too. The placeholder itself is
// refused (see ErrRedactedPlaceholder).
func (s *Secret) UnmarshalText(text []byte) error {
	if string(text) == Redacted {
		return ErrRedactedPlaceholder
	}
	*s = New(string(text))
	return nil
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value {
	return slog.StringValue(s.placeholder())
}
