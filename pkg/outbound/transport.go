// Package outbound is the only way Switchyard makes HTTP calls to addresses
// an operator or a user supplied: registration probes, health probes,
// credential validation and request forwarding to upstreams.
//
// Rules for every other package:
//
//   - Build every outbound client with NewClient (or NewTransport when a
//     client must be assembled by hand), passing the process-wide Policy
//     parsed from the -outbound-allow flag. Never use http.DefaultClient,
//     http.DefaultTransport, or an http.Client/http.Transport of your own
//     for outbound calls, and never replace the returned transport's
//     DialContext, DialTLSContext or Proxy: the SSRF guard lives in the dialer.
//   - Check operator-supplied URLs with Policy.CheckURL when they are
//     registered, so mistakes are reported early; the dial-time check still
//     decides, because DNS answers change (rebinding).
//   - Build one client per service configuration (allow-insecure-TLS and CA
//     bundles are per service) and reuse it; clients are safe for concurrent use.
//   - Bound each call with the request context; the client has no overall
//     timeout because streamed completions last minutes.
//
// The guard resolves the host itself, refuses metadata and numeric host
// names before any lookup, and checks every resolved address in
// net.Dialer.ControlContext, immediately before connect(2). The dialer only
// ever receives IP literals, so the address checked is the address
// connected. Proxies from the environment are ignored and redirects are
// never followed (the 3xx response is returned to the caller).
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options tunes one outbound client. The zero value gives the defaults noted
// on each field.
type Options struct {
	// DialTimeout bounds resolving plus connecting. Default 5s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout defaults to 10s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written. Default 5m, because a non-streamed completion sends
	// its headers only when generation ends; probes should pass ~10s.
	// Negative disables it.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout defaults to 90s.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost defaults to 256: a gateway sends many concurrent
	// requests to few hosts.
	MaxIdleConnsPerHost int
	// InsecureSkipVerify turns off certificate verification for this client
	// only; set it solely from a service's allow-insecure-TLS setting.
	InsecureSkipVerify bool
	// RootCAs, when set, replaces the system roots for this client (a
	// per-service CA bundle).
	RootCAs *x509.CertPool
	// Resolver defaults to net.DefaultResolver. Tests use it to simulate
	// DNS answers, including rebinding.
	Resolver Resolver
	// Logger receives one warning per blocked dial. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultDialTimeout           = 5 * time.Second
	defaultTLSHandshakeTimeout   = 10 * time.Second
	defaultResponseHeaderTimeout = 5 * time.Minute
	defaultIdleConnTimeout       = 90 * time.Second
	defaultMaxIdleConnsPerHost   = 256
	maxResponseHeaderBytes       = 256 << 10
)

func (o Options) withDefaults() Options {
	o.DialTimeout = orDefault(o.DialTimeout, defaultDialTimeout)
	o.TLSHandshakeTimeout = orDefault(o.TLSHandshakeTimeout, defaultTLSHandshakeTimeout)
	o.ResponseHeaderTimeout = orDefault(o.ResponseHeaderTimeout, defaultResponseHeaderTimeout)
	if o.ResponseHeaderTimeout < 0 {
		o.ResponseHeaderTimeout = 0 // net/http reads zero as "no limit"
	}
	o.IdleConnTimeout = orDefault(o.IdleConnTimeout, defaultIdleConnTimeout)
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// NewClient returns an http.Client whose transport comes from NewTransport
// and which never follows redirects: a 3xx response is returned as is.
func NewClient(p Policy, o Options) *http.Client {
	return newClient(p, o, nil)
}

// NewTransport returns an http.Transport that refuses, at dial time, every
// address p blocks, ignores proxy environment variables, and verifies TLS
// certificates unless o.InsecureSkipVerify is set.
func NewTransport(p Policy, o Options) *http.Transport {
	return newTransport(p, o, nil)
}

func newClient(p Policy, o Options, beforeConnect connectHook) *http.Client {
	return &http.Client{
		Transport: newTransport(p, o, beforeConnect),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func newTransport(p Policy, o Options, beforeConnect connectHook) *http.Transport {
	o = o.withDefaults()
	guard := &dialGuard{
		policy:        p.clone(),
		resolver:      o.Resolver,
		logger:        o.Logger,
		beforeConnect: beforeConnect,
	}
	guard.dialer = net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second, ControlContext: guard.control}
	return &http.Transport{
		Proxy:             nil, // HTTP(S)_PROXY would let a proxy connect anywhere on our behalf
		DialContext:       guard.dialContext,
		ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            o.RootCAs,
			InsecureSkipVerify: o.InsecureSkipVerify, // #nosec G402 -- per-service operator opt-in
		},
		TLSHandshakeTimeout:    o.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		IdleConnTimeout:        o.IdleConnTimeout,
		MaxIdleConnsPerHost:    o.MaxIdleConnsPerHost,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
}

// connectHook runs in the Control hook after the policy allowed an address,
// just before connect(2). Tests use it to observe or veto connects; it is
// nil in production.
type connectHook func(netip.AddrPort) error

type dialGuard struct {
	policy        Policy
	resolver      Resolver
	logger        *slog.Logger
	dialer        net.Dialer
	beforeConnect connectHook
}

type requestedHostKey struct{}

// dialContext resolves address itself and dials each resolved IP literal in
// turn; control refuses blocked ones. Blocked addresses are skipped, so a
// name with one public and one private address still reaches the public one.
func (g *dialGuard) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, fmt.Errorf("outbound: network %q is not supported", network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("outbound: bad dial address: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, g.dialer.Timeout)
	defer cancel()
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, requestedHostKey{}, host)
	var errs []error
	for _, addr := range addrs {
		conn, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(addr.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// resolve returns the addresses to try for host. IP literals are used as
// they are; names are refused by name first (metadata names, numeric IPv4
// forms), then looked up.
func (g *dialGuard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	name := strings.ToLower(host)
	if err := checkDNSName(name); err != nil {
		return nil, err
	}
	if class := classifyName(name); class == ClassMetadata || class == ClassNumericHost {
		err := &BlockedError{Host: name, Class: class}
		g.logBlocked(err)
		return nil, err
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, fmt.Errorf("outbound: resolving %s: %w", name, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("outbound: resolving %s: no addresses", name)
	}
	return addrs, nil
}

// control is the SSRF guard proper. net.Dialer calls it for every socket,
// after the address is final and before connect(2).
func (g *dialGuard) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address we cannot read is an address we cannot vet.
		return &BlockedError{Host: address, Class: ClassReserved}
	}
	host, _ := ctx.Value(requestedHostKey{}).(string)
	if err := g.policy.check(ap.Addr(), host); err != nil {
		g.logBlocked(err)
		return err
	}
	if g.beforeConnect != nil {
		return g.beforeConnect(ap)
	}
	return nil
}

func (g *dialGuard) logBlocked(err error) {
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		g.logger.Warn("outbound dial blocked",
			slog.String("host", blocked.Host),
			slog.String("addr", addrText(blocked.Addr)),
			slog.String("class", blocked.Class.String()))
	}
}

func addrText(addr netip.Addr) string {
	if addr.IsValid() {
		return addr.String()
	}
	return ""
}
