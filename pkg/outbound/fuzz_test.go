package outbound

import (
	"context"
	"hash/fnv"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// fuzzAnswerPool mixes public and blocked addresses; every fuzzed name
// resolves to one to three of them, chosen by hash.
var fuzzAnswerPool = []netip.Addr{
	netip.MustParseAddr("8.8.8.8"),
	netip.MustParseAddr("104.18.7.192"),
	netip.MustParseAddr("2606:4700::1111"),
	netip.MustParseAddr("2606:4700::a00:1"), // public, though its low bits read 10.0.0.1
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("::ffff:169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("127.0.0.1"),
	netip.MustParseAddr("::1"),
	netip.MustParseAddr("0.0.0.0"),
	netip.MustParseAddr("10.1.2.3"),
	netip.MustParseAddr("192.168.1.1"),
	netip.MustParseAddr("64:ff9b::7f00:1"),
	netip.MustParseAddr("2002:a9fe:a9fe::"),
	netip.MustParseAddr("fe80::1"),
	netip.MustParseAddr("224.0.0.251"),
}

// hashResolver answers every name from fuzzAnswerPool without any DNS.
type hashResolver struct{}

func (hashResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(host))
	sum := h.Sum64()
	n := 1 + int(sum%3)
	addrs := make([]netip.Addr, 0, n)
	for i := range n {
		addrs = append(addrs, fuzzAnswerPool[(sum>>(8*(i+1)))%uint64(len(fuzzAnswerPool))])
	}
	return addrs, nil
}

// oracleBlockedV4 and oracleBlockedV6 restate the blocked ranges
// independently of classRanges, so the fuzz target is a differential check.
var (
	oracleBlockedV4 = mustPrefixes("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
		"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "224.0.0.0/3",
		"168.63.129.16/32")
	oracleBlockedV6 = mustPrefixes("::/128", "::1/128", "fe80::/10", "fc00::/7", "fec0::/10",
		"ff00::/8", "2001::/32", "64:ff9b:1::/48")
	oracleEmbedsLow32 = mustPrefixes("::ffff:0:0/96", "::/96", "64:ff9b::/96")
	oracleSixToFour   = netip.MustParsePrefix("2002::/16")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func inAny(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func oracleBlocked(addr netip.Addr) bool {
	addr = addr.WithZone("")
	if addr.Is4() {
		return inAny(oracleBlockedV4, addr)
	}
	b := addr.As16()
	switch {
	case inAny(oracleBlockedV6, addr):
		return true
	case inAny(oracleEmbedsLow32, addr):
		return inAny(oracleBlockedV4, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case oracleSixToFour.Contains(addr):
		return inAny(oracleBlockedV4, netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return false
}

// FuzzValidateAndDial checks the URL validator and the dial-time guard
// together: for any URL ValidateURL accepts, every address the guard lets
// through to connect(2) is outside the blocked ranges. Connects are vetoed
// by the test hook, so fuzzing never opens a connection.
func FuzzValidateAndDial(f *testing.F) {
	connects := connectLog{vetoAlways: true}
	client := newClient(Policy{}, Options{Resolver: hashResolver{}, Logger: quietLogger, DialTimeout: time.Second}, connects.record)
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ValidateURL(raw)
		if err != nil {
			return
		}
		if again, err := ValidateURL(u.String()); err != nil || again.String() != u.String() {
			t.Fatalf("canonical form %q is not stable: %v, %v", u, again, err)
		}
		connects.mu.Lock()
		connects.addrs = nil
		connects.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatalf("accepted URL %q does not build a request: %v", u, err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			t.Fatalf("request to %q succeeded although every connect is vetoed", u)
		}
		for _, ap := range connects.snapshot() {
			if oracleBlocked(ap.Addr()) {
				t.Fatalf("URL %q reached connect(2) for blocked address %v", raw, ap)
			}
		}
	})
}
