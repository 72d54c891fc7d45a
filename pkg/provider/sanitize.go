package provider

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxQuotedMessage is the most upstream text, in runes, that Sanitize
	// keeps: enough for a provider's one-line reason, too little to smuggle
	// a response body into a status message.
	MaxQuotedMessage = 160
	// sanitizeInputLimit bounds the work done on a hostile upstream message.
	sanitizeInputLimit = 4096
	// secretWindow is the length of the key fragments searched for. Any run
	// of this many key characters is redacted, so an upstream that echoes a
	// prefix or suffix of the key ("sk-proj-…Ab12Cd34") leaks nothing useful.
	secretWindow = 6
	// minSecretLen skips absurdly short "secrets" whose redaction would only
	// mangle ordinary words.
	minSecretLen = 4
	redacted     = "[REDACTED]"
)

// Sanitize makes untrusted upstream text safe to put in a status message, a
// log line or an edge error: it removes control and formatting characters,
// collapses whitespace, redacts every secret (raw, base64 and URL-encoded, and
// any fragment of secretWindow characters or more), redacts masked key echoes
// such as "sk-abc****1234", and truncates to MaxQuotedMessage runes.
func Sanitize(text string, secrets ...string) string {
	if len(text) > sanitizeInputLimit {
		text = text[:sanitizeInputLimit]
	}
	text = normalize(text)
	for _, secret := range secrets {
		text = redactSecret(text, secret)
	}
	text = redactMaskedEchoes(text)
	return truncateRunes(text, MaxQuotedMessage)
}

// normalize keeps printable characters only and collapses whitespace.
func normalize(text string) string {
	return strings.Join(strings.Fields(printableOnly(text)), " ")
}

func printableOnly(text string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, text)
}

// secretVariants lists the encodings in which an upstream might echo a key.
func secretVariants(secret string) []string {
	raw := []byte(secret)
	candidates := []string{
		secret,
		normalize(secret), // the text is normalised before redaction
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		url.QueryEscape(secret),
		url.PathEscape(secret),
	}
	var out []string
	for _, c := range candidates {
		if len(c) >= minSecretLen {
			out = append(out, c)
		}
	}
	return out
}

// redactSecret replaces every byte of text covered by a fragment of any
// variant of secret with a single marker per contiguous run.
func redactSecret(text, secret string) string {
	if len(secret) < minSecretLen {
		return text
	}
	fragments, width := secretFragments(secret)
	covered := make([]bool, len(text))
	found := false
	for i := 0; i+width <= len(text); i++ {
		if _, ok := fragments[text[i:i+width]]; ok {
			found = true
			for j := i; j < i+width; j++ {
				covered[j] = true
			}
		}
	}
	if !found {
		return text
	}
	return strings.ToValidUTF8(replaceCovered(text, covered), " ")
}

func secretFragments(secret string) (map[string]struct{}, int) {
	width := min(secretWindow, len(secret))
	fragments := make(map[string]struct{})
	for _, variant := range secretVariants(secret) {
		for i := 0; i+width <= len(variant); i++ {
			fragments[variant[i:i+width]] = struct{}{}
		}
	}
	return fragments, width
}

func replaceCovered(text string, covered []bool) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if !covered[i] {
			b.WriteByte(text[i])
			continue
		}
		if i == 0 || !covered[i-1] {
			b.WriteString(redacted)
		}
	}
	return b.String()
}

// redactMaskedEchoes hides tokens in which the upstream itself masked a key
// (OpenAI: "Incorrect API key provided: sk-abc*****wxyz"): the visible ends
// are still part of the key.
func redactMaskedEchoes(text string) string {
	if !strings.Contains(text, "***") {
		return text
	}
	words := strings.Split(text, " ")
	for i, w := range words {
		if strings.Contains(w, "***") {
			words[i] = redacted
		}
	}
	return strings.Join(words, " ")
}

func truncateRunes(text string, limit int) string {
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	runes := []rune(text)
	return strings.TrimSpace(string(runes[:limit-1])) + "…"
}
