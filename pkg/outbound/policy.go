package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// FlagName is the command-line flag every service should bind a Policy to
// (flag.Var(&policy, outbound.FlagName, ...)); error messages refer to it.
const FlagName = "outbound-allow"

// ErrBlocked matches (with errors.Is) every refusal by the SSRF guard: a
// dial to a blocked address, or a host name that is blocked by name.
var ErrBlocked = errors.New("outbound destination blocked")

// Policy says which destinations outbound calls may reach. The zero value is
// the safest: only public addresses.
//
// Metadata, link-local, loopback, private, CGNAT, unspecified, multicast,
// broadcast and reserved addresses are blocked, including their
// IPv4-mapped/-compatible, NAT64 and 6to4 IPv6 forms. AllowLoopback and
// AllowPrivate open whole classes; Allow opens single prefixes (an
// in-cluster vLLM at 10.0.3.7). Cloud metadata addresses stay blocked
// unless one Allow entry is exactly that single address (/32 or /128):
// neither AllowPrivate nor a wider prefix such as 169.254.0.0/16 opens them.
// Unspecified, multicast, broadcast and reserved addresses cannot be opened.
//
// *Policy implements flag.Value; see ParsePolicy for the syntax.
type Policy struct {
	AllowLoopback bool           // 127.0.0.0/8, ::1, localhost
	AllowPrivate  bool           // RFC 1918, fc00::/7, fec0::/10, 100.64.0.0/10
	Allow         []netip.Prefix // explicit allowlist; see the type comment for metadata
}

// Check returns nil when p permits a connection to addr, or a *BlockedError
// (which matches ErrBlocked) naming the address class.
func (p Policy) Check(addr netip.Addr) error {
	return p.check(addr, "")
}

func (p Policy) check(addr netip.Addr, host string) error {
	class := Classify(addr)
	if p.permits(addr, class) {
		return nil
	}
	return &BlockedError{Host: host, Addr: addr, Class: class}
}

func (p Policy) permits(addr netip.Addr, class Class) bool {
	switch class {
	case ClassPublic:
		return true
	case ClassMetadata:
		return p.allowsExactly(addr)
	case ClassLoopback:
		return p.AllowLoopback || p.allowlisted(addr)
	case ClassPrivate, ClassSharedCGNAT:
		return p.AllowPrivate || p.allowlisted(addr)
	case ClassLinkLocal:
		return p.allowlisted(addr)
	}
	return false
}

// allowlisted matches both the literal address and the IPv4 address an
// IPv6 form carries, so 127.0.0.1/32 also admits ::ffff:127.0.0.1.
func (p Policy) allowlisted(addr netip.Addr) bool {
	raw, eff := addr.WithZone(""), effectiveAddr(addr)
	for _, prefix := range p.Allow {
		if prefix.Contains(raw) || prefix.Contains(eff) {
			return true
		}
	}
	return false
}

func (p Policy) allowsExactly(addr netip.Addr) bool {
	raw, eff := addr.WithZone(""), effectiveAddr(addr)
	for _, prefix := range p.Allow {
		if prefix.IsSingleIP() && (prefix.Addr() == raw || prefix.Addr() == eff) {
			return true
		}
	}
	return false
}

// ParsePolicy parses the flag syntax: a comma-separated list of IP
// addresses, CIDR prefixes and the words "loopback" and "private", for
// example "10.0.0.0/8,127.0.0.1/32" or "loopback,private". The empty string
// is the zero (safest) policy.
func ParsePolicy(s string) (Policy, error) {
	var p Policy
	err := p.Set(s)
	return p, err
}

// Set adds the entries in s (ParsePolicy syntax) to p. Repeated flags
// accumulate.
func (p *Policy) Set(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if err := p.add(item); err != nil {
			return err
		}
	}
	return nil
}

func (p *Policy) add(item string) error {
	switch strings.ToLower(item) {
	case "loopback":
		p.AllowLoopback = true
		return nil
	case "private":
		p.AllowPrivate = true
		return nil
	}
	prefix, err := parseAllowEntry(item)
	if err != nil {
		return err
	}
	// Clip so that copies of a Policy never share an appended backing array.
	p.Allow = append(slices.Clip(p.Allow), prefix)
	return nil
}

func parseAllowEntry(item string) (netip.Prefix, error) {
	if strings.Contains(item, "/") {
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, entryError(item, "it is not a valid CIDR prefix")
		}
		if prefix.Bits() == 0 {
			return netip.Prefix{}, entryError(item, `a /0 prefix would open every range; use "loopback" or "private", or narrower prefixes`)
		}
		return prefix.Masked(), nil
	}
	addr, err := netip.ParseAddr(item)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, entryError(item, `it is not an IP address, a CIDR prefix, "loopback" or "private"`)
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func entryError(item, why string) error {
	return fmt.Errorf("-%s entry %q: %s (example: -%s=10.0.0.0/8,127.0.0.1/32)", FlagName, item, why, FlagName)
}

// String returns p in ParsePolicy syntax; ParsePolicy(p.String()) equals p.
func (p *Policy) String() string {
	if p == nil {
		return ""
	}
	var items []string
	if p.AllowLoopback {
		items = append(items, "loopback")
	}
	if p.AllowPrivate {
		items = append(items, "private")
	}
	for _, prefix := range p.Allow {
		items = append(items, prefix.String())
	}
	return strings.Join(items, ",")
}

// clone returns a copy that shares nothing with p, so a transport keeps the
// policy it was built with even if the caller edits its Policy later.
func (p Policy) clone() Policy {
	p.Allow = slices.Clone(p.Allow)
	return p
}

// BlockedError is the refusal of one destination. It never contains URL
// user information or response bytes.
type BlockedError struct {
	Host  string     // host name or literal as requested; empty when unknown
	Addr  netip.Addr // the refused address; invalid when refused by name
	Class Class
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Error reads "blocked: 169.254.169.254 is a cloud metadata address; ..."
// followed by what the operator can do about it.
func (e *BlockedError) Error() string {
	var b strings.Builder
	b.WriteString("blocked: ")
	if e.Addr.IsValid() {
		b.WriteString(e.Addr.String())
		if e.Host != "" && e.Host != e.Addr.String() {
			fmt.Fprintf(&b, " (resolved from %s)", e.Host)
		}
	} else {
		b.WriteString(e.Host)
	}
	fmt.Fprintf(&b, " is a %s address; %s", e.Class, e.advice())
	return b.String()
}

func (e *BlockedError) advice() string {
	switch e.Class {
	case ClassMetadata:
		if !e.Addr.IsValid() {
			return "Switchyard never calls cloud metadata endpoints by name"
		}
		return fmt.Sprintf("Switchyard never calls cloud metadata endpoints unless -%s lists %s on its own", FlagName, e.singlePrefix(""))
	case ClassLoopback:
		return fmt.Sprintf("to reach a service on this host, allow it with -%s=%s (or loopback)", FlagName, e.singlePrefix("127.0.0.1/32"))
	case ClassPrivate, ClassSharedCGNAT:
		return fmt.Sprintf("to reach an in-cluster service, allowlist its address or range with -%s=%s (or private)", FlagName, e.singlePrefix("10.0.0.0/8"))
	case ClassLinkLocal:
		return fmt.Sprintf("if this is intended, allowlist the address with -%s", FlagName)
	case ClassNumericHost:
		return "write the address as a dotted quad (for example 192.0.2.10) or use a DNS name"
	}
	return "this address can never be an upstream; use the service's real address"
}

// singlePrefix is the narrowest allowlist entry that would admit e.Addr, or
// example when the refusal was by name.
func (e *BlockedError) singlePrefix(example string) string {
	if !e.Addr.IsValid() {
		return example
	}
	addr := e.Addr.WithZone("")
	return netip.PrefixFrom(addr, addr.BitLen()).String()
}
