package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidURL matches (with errors.Is) every ValidateURL refusal that is
// about the shape of the URL rather than where it points.
var ErrInvalidURL = errors.New("invalid upstream URL")

// maxURLLength bounds what an operator can register; real base URLs are short.
const maxURLLength = 2048

// ValidateURL parses an operator-supplied upstream URL and returns it in
// canonical form, or an error that says what to change. It accepts only
// absolute http:// and https:// URLs with a host, and refuses user
// information (user:pass@), fragments, whitespace, control characters,
// backslashes, IPv6 zones, numeric IPv4 forms other than the dotted quad
// (2130706433, 0x7f000001, 017700000001, 127.1) and cloud metadata names.
//
// Internationalised host names are refused, not converted: IDNA mapping
// turns look-alike characters into ASCII (fullwidth "１２７．０．０．１"
// becomes 127.0.0.1), so the name an operator sees would not be the name
// that is dialled. Register the punycode (xn--...) form instead.
//
// Canonical form: lower-case scheme and host, IPv6 literals in RFC 5952
// form, the port without leading zeros. ValidateURL does not resolve names
// and does not apply a Policy: use Policy.CheckURL at registration, and rely
// on the transport from NewTransport for the dial-time check. Errors never
// repeat user information from the input.
func ValidateURL(raw string) (*url.URL, error) {
	if err := checkRawText(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, parseFailure(err)
	}
	if err := checkShape(u); err != nil {
		return nil, err
	}
	host, err := canonicalHost(u)
	if err != nil {
		return nil, err
	}
	port, err := canonicalPort(u.Port())
	if err != nil {
		return nil, err
	}
	u.Host = host
	if port != "" {
		u.Host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	return u, nil
}

// CheckURL is ValidateURL plus the policy decision that can be made without
// DNS: IP literals and the name localhost are checked against p. Names are
// judged at dial time by the addresses they resolve to.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := ValidateURL(raw)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		return urlOrError(u, p.check(addr, host))
	}
	if classifyName(host) == ClassLoopback {
		err := p.check(netip.AddrFrom4([4]byte{127, 0, 0, 1}), host)
		return urlOrError(u, err)
	}
	return u, nil
}

// urlOrError returns (u, nil) or (nil, err), never both.
func urlOrError(u *url.URL, err error) (*url.URL, error) {
	if err != nil {
		return nil, err
	}
	return u, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidURL}, args...)...)
}

func checkRawText(raw string) error {
	switch {
	case raw == "":
		return invalid("the URL is empty; give the full base URL, e.g. https://api.openai.com")
	case len(raw) > maxURLLength:
		return invalid("the URL is longer than %d bytes", maxURLLength)
	case strings.Contains(raw, "#"):
		// A fragment is never sent upstream; parsers disagree on where it
		// starts, which is how "http://evil#@good/" tricks work.
		return invalid("the URL must not contain a fragment (#...); remove it")
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' || (r >= 0x80 && r <= 0x9f) {
			return invalid("the URL contains whitespace, a control character or a backslash; remove it")
		}
	}
	return nil
}

// parseFailure explains a url.Parse error without echoing the input: the
// parser's own message quotes the whole URL (credentials included) and the
// offending part, so only its unquoted lead ("invalid port") is kept.
func parseFailure(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return invalid("the URL cannot be parsed; write it as https://host[:port]/path")
	}
	reason, _, _ := strings.Cut(ue.Err.Error(), `"`)
	return invalid("the URL cannot be parsed (%s); write it as https://host[:port]/path", strings.TrimSpace(reason))
}

func checkShape(u *url.URL) error {
	switch {
	case u.Scheme == "":
		return invalid("the URL has no scheme; write the full URL, e.g. https://api.openai.com")
	case u.Scheme != "http" && u.Scheme != "https":
		// The scheme is not echoed: in "user:pass@host" it is the user name.
		return invalid("only http:// and https:// URLs are allowed")
	case u.Opaque != "":
		return invalid("write the URL as %s://host/path", u.Scheme)
	case u.User != nil:
		return invalid("the URL must not contain a user name or password; store credentials in the service's credential instead")
	case u.Host == "" || u.Hostname() == "":
		return invalid("the URL has no host; write it as %s://host[:port]/path", u.Scheme)
	}
	return nil
}

func canonicalHost(u *url.URL) (string, error) {
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		return canonicalIPv6(host)
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
		return addr.String(), nil
	}
	name := strings.ToLower(host)
	if err := checkDNSName(name); err != nil {
		return "", err
	}
	if class := classifyName(name); class == ClassMetadata || class == ClassNumericHost {
		return "", &BlockedError{Host: name, Class: class}
	}
	return name, nil
}

func canonicalIPv6(host string) (string, error) {
	addr, err := netip.ParseAddr(host)
	switch {
	case err != nil || !addr.Is6():
		return "", invalid("a host in [brackets] must be an IPv6 address")
	case addr.Zone() != "":
		return "", invalid("IPv6 zone identifiers (%%...) are not allowed in upstream URLs")
	}
	return "[" + addr.String() + "]", nil
}

// checkDNSName accepts ASCII host names only: letters, digits, '-' and '_'
// (Docker Compose service names use '_'), labels of 1 to 63 bytes, at most
// 253 bytes in all. name must be lower case.
func checkDNSName(name string) error {
	for _, r := range name {
		if r >= 0x80 {
			return invalid("the host contains non-ASCII characters; register the punycode (xn--...) form of an internationalised name")
		}
	}
	trimmed := strings.TrimSuffix(name, ".")
	if len(trimmed) == 0 || len(trimmed) > 253 {
		return invalid("the host %q is not a valid DNS name", name)
	}
	for label := range strings.SplitSeq(trimmed, ".") {
		if len(label) == 0 || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return invalid("the host %q is not a valid DNS name (labels are 1-63 of a-z, 0-9, '-', '_')", name)
		}
	}
	return nil
}

func canonicalPort(port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", invalid("the port must be a number from 1 to 65535")
	}
	return strconv.Itoa(n), nil
}
