package keys

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
)

// Config configures authentication.
type Config struct {
	// Auth turns authentication on (the default) or off.
	Auth AuthMode
	// FailuresPerMinute is how many requests with a missing or invalid key
	// one source address may send per minute (as a burst, refilled
	// continuously) before it is answered 429. Default 60.
	FailuresPerMinute int64
}

// DefaultConfig has authentication on.
func DefaultConfig() Config { return Config{Auth: AuthOn, FailuresPerMinute: 60} }

// AuthMode is the -router.auth flag: "on" or "off".
type AuthMode bool

// The modes.
const (
	AuthOn  AuthMode = true
	AuthOff AuthMode = false
)

func (m *AuthMode) String() string {
	if m == nil || *m {
		return "on"
	}
	return "off"
}

// Set implements flag.Value.
func (m *AuthMode) Set(v string) error {
	switch strings.ToLower(v) {
	case "on", "true", "1":
		*m = AuthOn
	case "off", "false", "0":
		*m = AuthOff
	default:
		return fmt.Errorf("auth must be on or off, got %q", v)
	}
	return nil
}

// Authenticator answers who sent an edge request, from memory.
type Authenticator struct {
	cache    *Cache
	enabled  bool
	failures *ratelimit.Memory
	perMin   int64
	now      nowNano
	// SourceOf names the source a failed attempt is charged to; by default
	// the host of r.RemoteAddr. Behind a trusted proxy, set it to read the
	// proxy's client-address header.
	SourceOf func(r *http.Request) string
}

// NewAuthenticator authenticates against cache. With authentication off it
// logs a warning once and every request is Anonymous.
func NewAuthenticator(cfg Config, cache *Cache, log *slog.Logger) *Authenticator {
	if cfg.FailuresPerMinute <= 0 {
		cfg.FailuresPerMinute = DefaultConfig().FailuresPerMinute
	}
	if !cfg.Auth {
		log.Warn("consumer key authentication is OFF (-router.auth=off): every caller may use every model; " +
			"use it only for local experiments")
	}
	return &Authenticator{
		cache: cache, enabled: bool(cfg.Auth), perMin: cfg.FailuresPerMinute, now: wallClock,
		failures: ratelimit.NewMemory(ratelimit.MemoryOptions{}), SourceOf: remoteHost,
	}
}

// Enabled reports whether keys are checked.
func (a *Authenticator) Enabled() bool { return a.enabled }

// Authenticate returns the principal of the key in r's Authorization
// header ("Bearer sy-…"; x-api-key is accepted too, for Anthropic-style
// clients). Errors are *Error: ErrMissingKey or ErrInvalidKey (401, also
// for expired and revoked keys) or, once the source has sent too many of
// those, a 429 matching ErrTooManyFailures. A valid key is never refused
// for its source's failures, so callers sharing an address with a guesser
// are unaffected.
//
// The lookup is a map access by SHA-256 digest. Comparing in constant time
// is not needed: the map compares digests, never the key, and learning by
// timing how many leading bytes of a digest matched tells an attacker
// nothing about any key's preimage.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	if !a.enabled {
		return Anonymous, nil
	}
	key, ok := presentedKey(r.Header)
	if !ok {
		return nil, a.fail(r, ErrMissingKey)
	}
	if !wellFormed(key) {
		return nil, a.fail(r, ErrInvalidKey)
	}
	p, ok := a.cache.Load().Lookup(HashKey(key))
	switch {
	case !ok:
		return nil, a.fail(r, ErrInvalidKey)
	case p.revoked:
		return nil, a.fail(r, errRevokedKey)
	case p.expiresAt != 0 && p.expired(a.now()):
		return nil, a.fail(r, errExpiredKey)
	}
	return p, nil
}

// fail charges one failure to r's source and returns err, or a 429 when
// the source is over its budget.
func (a *Authenticator) fail(r *http.Request, err *Error) error {
	scope := [1]ratelimit.Scope{{Kind: ratelimit.KindCustom, ID: "authfail", Model: a.SourceOf(r),
		Limits: ratelimit.Limits{RPM: a.perMin}}}
	d, lerr := a.failures.Admit(context.Background(), scope[:], 0)
	if lerr != nil || d.Allowed {
		return err
	}
	return tooManyFailures(d.RetryAfter)
}

// presentedKey finds the key in the Authorization (Bearer) or x-api-key
// header.
func presentedKey(h http.Header) (string, bool) {
	if v := h["Authorization"]; len(v) > 0 {
		const bearer = "Bearer "
		if len(v[0]) > len(bearer) && strings.EqualFold(v[0][:len(bearer)], bearer) {
			key := strings.TrimSpace(v[0][len(bearer):])
			return key, key != ""
		}
		return "", false
	}
	if v := h["X-Api-Key"]; len(v) > 0 && v[0] != "" {
		return strings.TrimSpace(v[0]), true
	}
	return "", false
}

// remoteHost is the client address of r. IPv6 addresses are charged per
// /64, the block one host usually controls, so rotating addresses inside it
// does not reset the budget.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return host
	}
	prefix, _ := addr.Prefix(64)
	return prefix.String()
}
