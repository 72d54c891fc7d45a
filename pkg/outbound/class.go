package outbound

import (
	"net/netip"
	"strings"
)

// Class is the kind of destination an address (or a host name) belongs to.
// Policy decides per class whether a dial may go ahead.
type Class uint8

// Address classes, from harmless to never-reachable.
const (
	// ClassPublic is any globally routable address: always allowed.
	ClassPublic Class = iota
	// ClassMetadata is a cloud instance-metadata endpoint (AWS, GCP, Azure,
	// Alibaba, Oracle). Blocked unless the exact address is allowlisted.
	ClassMetadata
	// ClassLinkLocal is 169.254.0.0/16 and fe80::/10 outside the metadata
	// addresses. Blocked unless an allowlist prefix covers it.
	ClassLinkLocal
	// ClassLoopback is 127.0.0.0/8, ::1 and the name localhost.
	ClassLoopback
	// ClassPrivate is RFC 1918, fc00::/7, deprecated site-local fec0::/10 and
	// local-use NAT64 64:ff9b:1::/48.
	ClassPrivate
	// ClassSharedCGNAT is the carrier-grade NAT range 100.64.0.0/10.
	ClassSharedCGNAT
	// ClassUnspecified is 0.0.0.0/8 and ::. Linux connects 0.0.0.0 to the
	// local host, so it is never allowed.
	ClassUnspecified
	// ClassMulticast is 224.0.0.0/4 and ff00::/8. Never allowed.
	ClassMulticast
	// ClassBroadcast is 255.255.255.255. Never allowed.
	ClassBroadcast
	// ClassReserved is 240.0.0.0/4, 192.0.0.0/24, Teredo and invalid
	// addresses. Never allowed.
	ClassReserved
	// ClassNumericHost is a host name that a C resolver would read as an IPv4
	// address (2130706433, 0x7f000001, 017700000001, 127.1). Never allowed:
	// write the address as a dotted quad instead.
	ClassNumericHost
)

var classNames = [...]string{
	ClassPublic:      "public",
	ClassMetadata:    "cloud metadata",
	ClassLinkLocal:   "link-local",
	ClassLoopback:    "loopback",
	ClassPrivate:     "private",
	ClassSharedCGNAT: "carrier-grade NAT (shared)",
	ClassUnspecified: "unspecified",
	ClassMulticast:   "multicast",
	ClassBroadcast:   "broadcast",
	ClassReserved:    "reserved",
	ClassNumericHost: "non-standard numeric IPv4",
}

// String names the class the way error messages do ("loopback", "cloud metadata").
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// metadataAddrs are the instance-metadata and platform endpoints of the
// major clouds. They sit inside ranges that AllowPrivate or a broad
// allowlist prefix would open, so they are matched before any range.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OCI, DigitalOcean IMDS
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("169.254.170.23"),  // AWS EKS pod identity
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"),    // AWS EKS pod identity over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud metadata
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer
	netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud legacy metadata
}

// metadataNames are host names that resolve to a metadata endpoint inside
// the cloud. They are refused by name, before any DNS lookup. Matching is on
// the whole name, so "metadata.prod.svc.cluster.local" is not affected.
var metadataNames = map[string]bool{
	"metadata":                   true,
	"metadata.google.internal":   true,
	"metadata.goog":              true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
}

type classRange struct {
	prefix netip.Prefix
	class  Class
}

// classRanges is checked in order after embedded IPv4 addresses have been
// extracted; the first match wins.
var classRanges = []classRange{
	{netip.MustParsePrefix("0.0.0.0/8"), ClassUnspecified},
	{netip.MustParsePrefix("127.0.0.0/8"), ClassLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), ClassPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), ClassPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), ClassPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), ClassSharedCGNAT},
	{netip.MustParsePrefix("169.254.0.0/16"), ClassLinkLocal},
	{netip.MustParsePrefix("192.0.0.0/24"), ClassReserved},
	{netip.MustParsePrefix("224.0.0.0/4"), ClassMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), ClassBroadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), ClassReserved},
	{netip.MustParsePrefix("::/128"), ClassUnspecified},
	{netip.MustParsePrefix("::1/128"), ClassLoopback},
	{netip.MustParsePrefix("fe80::/10"), ClassLinkLocal},
	{netip.MustParsePrefix("fec0::/10"), ClassPrivate},
	{netip.MustParsePrefix("fc00::/7"), ClassPrivate},
	{netip.MustParsePrefix("64:ff9b:1::/48"), ClassPrivate},
	{netip.MustParsePrefix("2001::/32"), ClassReserved}, // Teredo hides the IPv4 it reaches
	{netip.MustParsePrefix("ff00::/8"), ClassMulticast},
}

var (
	compatPrefix = netip.MustParsePrefix("::/96")
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
)

// Classify returns the class of addr. IPv6 forms that carry an IPv4 address
// (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96
// and 6to4 2002::/16) are classified by the IPv4 address they reach.
func Classify(addr netip.Addr) Class {
	if !addr.IsValid() {
		return ClassReserved
	}
	addr = effectiveAddr(addr)
	for _, m := range metadataAddrs {
		if addr == m {
			return ClassMetadata
		}
	}
	for _, r := range classRanges {
		if r.prefix.Contains(addr) {
			return r.class
		}
	}
	return ClassPublic
}

// effectiveAddr strips the zone and returns the IPv4 address that an
// IPv4-carrying IPv6 form reaches, or addr itself.
func effectiveAddr(addr netip.Addr) netip.Addr {
	addr = addr.WithZone("")
	if !addr.Is6() {
		return addr
	}
	if addr.Is4In6() {
		return addr.Unmap()
	}
	b := addr.As16()
	switch {
	case compatPrefix.Contains(addr) && addr != netip.IPv6Unspecified() && addr != netip.IPv6Loopback():
		return netip.AddrFrom4([4]byte(b[12:16]))
	case nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return addr
}

// classifyName returns the class a host name has before any DNS lookup:
// metadata names, localhost, and names a C resolver would parse as an IPv4
// number. Any other name is ClassPublic here and is judged by the addresses
// it resolves to. name must already be lower case.
func classifyName(name string) Class {
	name = strings.TrimSuffix(name, ".")
	switch {
	case metadataNames[name]:
		return ClassMetadata
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		return ClassLoopback // RFC 6761: always the loopback interface
	case endsInNumber(name):
		return ClassNumericHost
	}
	return ClassPublic
}

// endsInNumber reports whether the last label of name is a decimal, octal or
// hex number. Such names are parsed as IPv4 by inet_aton, getaddrinfo and the
// WHATWG URL standard (127.1, 0x7f000001, 2130706433), so they must never
// reach a resolver as names.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return strings.Trim(last[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}
