package fakes

import (
	"net/http"
	"strings"
)

// ErrorKind is a provider-neutral error condition; each protocol renders it
// with its own status code and body (e.g. KindInvalidKey is a 401 at OpenAI,
// a 400 API_KEY_INVALID at Gemini and a 403 at NVIDIA NIM).
type ErrorKind int

// The error conditions a Fault or a mid-stream error can simulate.
const (
	KindNone          ErrorKind = iota
	KindBadRequest              // malformed or invalid request
	KindMissingKey              // no credential presented
	KindInvalidKey              // wrong credential
	KindPermission              // key valid but not allowed
	KindModelNotFound           // unknown model / deployment
	KindRateLimit               // transient 429 (retry after)
	KindQuota                   // out of credit / quota (do not retry)
	KindServer                  // 500
	KindOverloaded              // 503 (Anthropic 529, Gemini 503 UNAVAILABLE)
)

var kindNames = map[ErrorKind]string{
	KindNone: "none", KindBadRequest: "bad_request", KindMissingKey: "missing_key",
	KindInvalidKey: "invalid_key", KindPermission: "permission", KindModelNotFound: "model_not_found",
	KindRateLimit: "rate_limit", KindQuota: "quota", KindServer: "server", KindOverloaded: "overloaded",
}

func (k ErrorKind) String() string { return kindNames[k] }

// kindForStatus guesses the condition a bare status code stands for.
func kindForStatus(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized:
		return KindInvalidKey
	case status == http.StatusForbidden:
		return KindPermission
	case status == http.StatusNotFound:
		return KindModelNotFound
	case status == http.StatusTooManyRequests:
		return KindRateLimit
	case status == http.StatusPaymentRequired:
		return KindQuota
	case status == http.StatusInternalServerError:
		return KindServer
	case status >= 500:
		return KindOverloaded
	default:
		return KindBadRequest
	}
}

// Fault is an injected failure answered instead of the normal response.
// Set Kind, Status or both: Status alone picks the matching Kind; Kind alone
// uses the protocol's own status for it. Body, if set, is sent verbatim as
// application/json instead of the protocol's error body.
type Fault struct {
	Kind       ErrorKind
	Status     int
	RetryAfter string // seconds, sent as retry-after (Gemini: RetryInfo.retryDelay)
	Body       string
	// AllPaths also fails model listing/retrieval and health endpoints;
	// by default only inference endpoints fail, so probes do not consume
	// the faults meant for traffic.
	AllPaths bool
}

// kind resolves the Kind the fault renders as.
func (f Fault) kind() ErrorKind {
	if f.Kind != KindNone {
		return f.Kind
	}
	if f.Status == 0 {
		return KindServer
	}
	return kindForStatus(f.Status)
}

// faultPlan holds the pending failures; it is guarded by Fake.mu.
type faultPlan struct {
	next      []Fault // consumed one per matching request
	fraction  float64
	fracFault Fault
	fracSeen  int // matching requests seen while the fraction is active
	fracFail  int // of which failed
}

// take returns the fault to serve for a request, if any. The fraction is
// spread evenly and deterministically: after n matching requests exactly
// floor(n*fraction) have failed.
func (p *faultPlan) take(inference bool) (Fault, bool) {
	if len(p.next) > 0 && (inference || p.next[0].AllPaths) {
		f := p.next[0]
		p.next = p.next[1:]
		return f, true
	}
	if p.fraction <= 0 || !(inference || p.fracFault.AllPaths) {
		return Fault{}, false
	}
	p.fracSeen++
	if float64(p.fracFail+1) <= float64(p.fracSeen)*p.fraction+1e-9 {
		p.fracFail++
		return p.fracFault, true
	}
	return Fault{}, false
}

// isInference reports whether a path is a generation or embedding call.
func isInference(path string) bool {
	for _, suffix := range []string{"/chat/completions", "/completions", "/embeddings", "/messages",
		":generateContent", ":streamGenerateContent", ":embedContent", ":batchEmbedContents"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return false
}

// FailNext makes the next n inference requests fail with fault (appended
// after any failures already queued).
func (f *Fake) FailNext(n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults.next = append(f.faults.next, fault)
	}
}

// FailFraction makes the given fraction (0..1) of subsequent inference
// requests fail with fault, evenly spread; 0 turns it off.
func (f *Fake) FailFraction(fraction float64, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults.fraction, f.faults.fracFault = fraction, fault
	f.faults.fracSeen, f.faults.fracFail = 0, 0
}

// ClearFaults drops every queued and fractional failure.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = faultPlan{}
}

// PendingFaults is the number of FailNext failures not yet served.
func (f *Fake) PendingFaults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.faults.next)
}
