package secret

import (
	"io"
	"slices"
	"strings"
	"sync"
)

// Redactor replaces registered secrets in arbitrary text: the raw value, its
// base64 forms (standard and URL alphabets, padded or not, and the aligned
// fragments a secret leaves inside a longer base64 blob such as a Basic auth
// header), its URL-encoded forms (query and path escaping, upper- and
// lower-case hex) and its JSON-escaped form.
//
// Guarantee: the output of Redact contains none of those forms of any
// registered secret. Each match is replaced by a mask; adjacent and
// overlapping matches merge into one mask; the result is scanned again until
// nothing matches, so a secret cannot be reassembled across a mask boundary.
// The mask is chosen so it contains no form of any registered secret.
//
// A Redactor is safe for concurrent use. The zero value is not usable; call
// NewRedactor.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]int // value -> registration count
	forms   []string       // every form of every secret, longest first
	mask    string
}

// NewRedactor returns a Redactor that knows the given secrets.
func NewRedactor(secrets ...Secret) *Redactor {
	r := &Redactor{secrets: make(map[string]int), mask: Redacted}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add registers a secret. Empty secrets are ignored. Adding the same value
// twice needs two Removes to forget it, so independent owners of the same key
// do not unregister each other.
func (r *Redactor) Add(s Secret) {
	if s.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[s.Reveal()]++
	r.rebuild()
}

// Remove forgets one registration of a secret (after a key rotation, once
// nothing can still print the old key).
func (r *Redactor) Remove(s Secret) {
	r.mu.Lock()
	defer r.mu.Unlock()
	value := s.Reveal()
	if r.secrets[value] <= 1 {
		delete(r.secrets, value)
	} else {
		r.secrets[value]--
	}
	r.rebuild()
}

// Len returns how many distinct secrets are registered.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// rebuild recomputes the search forms and the mask; the caller holds mu.
func (r *Redactor) rebuild() {
	seen := make(map[string]bool)
	forms := make([]string, 0, len(r.secrets)*16)
	for value := range r.secrets {
		for _, f := range encodedForms(value) {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	// Longest first so the common case (one match of the full form) is found
	// before its fragments; correctness does not depend on the order.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	r.forms = forms
	r.mask = chooseMask(forms)
}

// Redact returns text with every form of every registered secret masked.
// Text that contains no secret is returned unchanged without allocating.
func (r *Redactor) Redact(text string) string {
	r.mu.RLock()
	forms, mask := r.forms, r.mask
	r.mu.RUnlock()
	if !containsAny(text, forms) {
		return text
	}
	return redactToFixpoint(text, forms, mask)
}

// RedactBytes is Redact for byte slices. It returns b itself when nothing
// matched.
func (r *Redactor) RedactBytes(b []byte) []byte {
	out := r.Redact(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// Writer returns an io.Writer that redacts each Write before passing it on.
// A secret split across two Write calls is not caught; slog handlers and
// log.Logger write one whole record per call, which is what this is for.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &redactingWriter{redactor: r, next: w}
}

type redactingWriter struct {
	redactor *Redactor
	next     io.Writer
}

// Write reports len(p) on success even when the redacted output has a
// different length, as io.Writer callers expect.
func (w *redactingWriter) Write(p []byte) (int, error) {
	if _, err := w.next.Write(w.redactor.RedactBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func containsAny(text string, forms []string) bool {
	for _, f := range forms {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// segment is a piece of the output being built: original text or a mask.
type segment struct {
	text   string
	masked bool
}

// redactToFixpoint masks every occurrence of every form, merges touching
// masks, and repeats until a scan finds nothing. Each round that finds a
// match absorbs at least one original byte into a mask (the mask itself
// contains no form), so the loop ends after at most len(text) rounds;
// in practice it runs once plus one confirming scan.
func redactToFixpoint(text string, forms []string, mask string) string {
	segments := []segment{{text: text}}
	for {
		rendered, inMask := render(segments, mask)
		covered := coverage(rendered, forms)
		if covered == nil {
			return rendered
		}
		segments = remask(rendered, inMask, covered)
	}
}

// render joins segments and reports, per byte, whether it belongs to a mask.
func render(segments []segment, mask string) (string, []bool) {
	var b strings.Builder
	var inMask []bool
	for _, s := range segments {
		piece := s.text
		if s.masked {
			piece = mask
		}
		b.WriteString(piece)
		for range len(piece) {
			inMask = append(inMask, s.masked)
		}
	}
	return b.String(), inMask
}

// coverage marks every byte that lies inside any (possibly overlapping)
// occurrence of any form, or returns nil when nothing occurs.
func coverage(text string, forms []string) []bool {
	var covered []bool
	for _, f := range forms {
		for start := 0; ; {
			i := strings.Index(text[start:], f)
			if i < 0 {
				break
			}
			if covered == nil {
				covered = make([]bool, len(text))
			}
			at := start + i
			for j := at; j < at+len(f); j++ {
				covered[j] = true
			}
			start = at + 1
		}
	}
	return covered
}

// remask turns every maximal run of covered-or-already-masked bytes into one
// masked segment and keeps the rest as text.
func remask(rendered string, inMask, covered []bool) []segment {
	var out []segment
	runStart := 0
	for i := 1; i <= len(rendered); i++ {
		if i < len(rendered) && isHidden(inMask, covered, i) == isHidden(inMask, covered, runStart) {
			continue
		}
		if isHidden(inMask, covered, runStart) {
			out = append(out, segment{masked: true})
		} else {
			out = append(out, segment{text: rendered[runStart:i]})
		}
		runStart = i
	}
	return out
}

func isHidden(inMask, covered []bool, i int) bool {
	return inMask[i] || covered[i]
}

// maskCandidates are tried in order; their character sets are disjoint, so
// one short secret can spoil at most one of them.
var maskCandidates = []string{Redacted, "<redacted>", "***", "###", "~~~"}

// chooseMask returns a mask that contains no form of any registered secret,
// which is what makes the fixpoint loop terminate.
func chooseMask(forms []string) string {
	for _, m := range maskCandidates {
		if !containsForm(m, forms) {
			return m
		}
	}
	// A single byte works unless some secret is exactly that byte.
	for c := 0x21; c < 0x7f; c++ {
		if m := string(rune(c)); !containsForm(m, forms) {
			return m
		}
	}
	return "" // every printable byte is itself a secret: delete instead of masking
}

func containsForm(mask string, forms []string) bool {
	for _, f := range forms {
		if strings.Contains(mask, f) {
			return true
		}
	}
	return false
}
