// Package contract is the single definition of Switchyard's NATS surface:
// every subject, stream, consumer, queue group and KV bucket, with its full
// configuration, plus the builders for subjects and keys that carry variable
// tokens and the idempotent EnsureTopology that creates them.
//
// No other package spells a subject or bucket name. Variable parts (service
// names, model ids such as "meta/llama-3.1-8b-instruct", consumer ids) are
// always passed through Token, so user input can never produce a wildcard
// ('*', '>'), an extra token ('.') or an empty token.
package contract

import (
	"strings"
)

// escapeByte is the escape introducer. It is legal in both NATS subjects and
// KV keys, and it is itself escaped, so the mapping is reversible.
const escapeByte = '='

// emptyToken stands for the empty string: an escaped value can never be a
// bare "=" otherwise, because '=' is always followed by two hex digits.
const emptyToken = "="

const hexDigits = "0123456789ABCDEF"

// Token escapes s into a single subject token / KV key segment. Letters,
// digits, '-' and '_' pass through; every other byte (including '.', '*',
// '>', '/', ':', whitespace and non-ASCII bytes) becomes "=XX". The result is
// never empty and never contains a wildcard or a token separator.
func Token(s string) string {
	if s == "" {
		return emptyToken
	}
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(escapeByte)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0F])
	}
	return b.String()
}

// Untoken reverses Token. It reports false for input Token cannot produce.
func Untoken(tok string) (string, bool) {
	if tok == emptyToken {
		return "", true
	}
	if tok == "" {
		return "", false
	}
	if isPlain(tok) {
		return tok, true
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if plainByte(c) {
			out = append(out, c)
			continue
		}
		if c != escapeByte || i+2 >= len(tok) {
			return "", false
		}
		hi, ok1 := unhex(tok[i+1])
		lo, ok2 := unhex(tok[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return string(out), true
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte(s[i]) {
			return false
		}
	}
	return true
}

func plainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
