package outbound

import (
	"errors"
	"flag"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want Class
	}{
		{"8.8.8.8", ClassPublic},
		{"2606:4700::1111", ClassPublic},
		{"169.254.169.254", ClassMetadata},
		{"169.254.170.2", ClassMetadata},
		{"fd00:ec2::254", ClassMetadata},
		{"100.100.100.200", ClassMetadata},
		{"168.63.129.16", ClassMetadata},
		{"192.0.0.192", ClassMetadata},
		{"::ffff:169.254.169.254", ClassMetadata},
		{"::169.254.169.254", ClassMetadata},  // IPv4-compatible
		{"64:ff9b::a9fe:a9fe", ClassMetadata}, // NAT64 of 169.254.169.254
		{"2002:a9fe:a9fe::1", ClassMetadata},  // 6to4 of 169.254.169.254
		{"169.254.1.1", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"fe80::1%eth0", ClassLinkLocal},
		{"127.0.0.1", ClassLoopback},
		{"127.255.255.254", ClassLoopback},
		{"::1", ClassLoopback},
		{"::ffff:127.0.0.1", ClassLoopback},
		{"::127.0.0.1", ClassLoopback},
		{"10.1.2.3", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"172.32.0.1", ClassPublic},
		{"192.168.1.1", ClassPrivate},
		{"fc00::1", ClassPrivate},
		{"fd12:3456::1", ClassPrivate},
		{"fec0::1", ClassPrivate},
		{"::ffff:10.0.0.1", ClassPrivate},
		{"100.64.0.1", ClassSharedCGNAT},
		{"100.127.255.255", ClassSharedCGNAT},
		{"100.128.0.1", ClassPublic},
		{"0.0.0.0", ClassUnspecified},
		{"0.1.2.3", ClassUnspecified},
		{"::", ClassUnspecified},
		{"::ffff:0.0.0.0", ClassUnspecified},
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"255.255.255.255", ClassBroadcast},
		{"240.0.0.1", ClassReserved},
		{"192.0.0.8", ClassReserved},
		{"2001:0:4136:e378::1", ClassReserved}, // Teredo
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Classify(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if got := Classify(netip.Addr{}); got != ClassReserved {
		t.Errorf("Classify(invalid) = %v, want reserved", got)
	}
}

func TestClassifyName(t *testing.T) {
	tests := []struct {
		name string
		want Class
	}{
		{"metadata.google.internal", ClassMetadata},
		{"metadata.google.internal.", ClassMetadata},
		{"metadata", ClassMetadata},
		{"instance-data.ec2.internal", ClassMetadata},
		{"metadata.prod.svc.cluster.local", ClassPublic},
		{"localhost", ClassLoopback},
		{"api.localhost", ClassLoopback},
		{"2130706433", ClassNumericHost},
		{"0x7f000001", ClassNumericHost},
		{"017700000001", ClassNumericHost},
		{"127.1", ClassNumericHost},
		{"10.0.0.0x1", ClassNumericHost},
		{"host.0x", ClassNumericHost},
		{"api.openai.com", ClassPublic},
		{"vllm-0.vllm", ClassPublic},
		{"1password.com", ClassPublic},
		{"example.0xg", ClassPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyName(tt.name); got != tt.want {
				t.Errorf("classifyName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	loopback := Policy{AllowLoopback: true}
	private := Policy{AllowPrivate: true}
	single := mustPolicy(t, "127.0.0.1/32,10.0.3.7")
	linkLocalRange := mustPolicy(t, "169.254.0.0/16,fd00::/8,100.64.0.0/10")
	exactMetadata := mustPolicy(t, "169.254.169.254/32")
	tests := []struct {
		name   string
		policy Policy
		addr   string
		allow  bool
	}{
		{"zero allows public", Policy{}, "1.1.1.1", true},
		{"zero blocks loopback", Policy{}, "127.0.0.1", false},
		{"zero blocks private", Policy{}, "192.168.0.10", false},
		{"zero blocks mapped loopback", Policy{}, "::ffff:127.0.0.1", false},
		{"AllowLoopback opens loopback", loopback, "127.0.0.1", true},
		{"AllowLoopback opens ::1", loopback, "::1", true},
		{"AllowLoopback keeps private shut", loopback, "10.0.0.1", false},
		{"AllowLoopback keeps unspecified shut", loopback, "0.0.0.0", false},
		{"AllowPrivate opens RFC 1918", private, "172.20.1.1", true},
		{"AllowPrivate opens ULA", private, "fd12::1", true},
		{"AllowPrivate opens CGNAT", private, "100.64.1.1", true},
		{"AllowPrivate keeps AWS IPv6 IMDS shut", private, "fd00:ec2::254", false},
		{"AllowPrivate keeps Alibaba metadata shut", private, "100.100.100.200", false},
		{"AllowPrivate keeps link-local shut", private, "169.254.1.1", false},
		{"single IP opens itself", single, "127.0.0.1", true},
		{"single IP opens its mapped form", single, "::ffff:127.0.0.1", true},
		{"single IP keeps neighbour shut", single, "127.0.0.2", false},
		{"single IP keeps ::1 shut", single, "::1", false},
		{"bare IP entry is a /32", single, "10.0.3.7", true},
		{"bare IP entry is not a range", single, "10.0.3.8", false},
		{"range opens link-local", linkLocalRange, "169.254.7.7", true},
		{"range keeps IMDS shut", linkLocalRange, "169.254.169.254", false},
		{"range keeps AWS IPv6 IMDS shut", linkLocalRange, "fd00:ec2::254", false},
		{"range keeps Alibaba metadata shut", linkLocalRange, "100.100.100.200", false},
		{"exact entry opens IMDS", exactMetadata, "169.254.169.254", true},
		{"exact entry opens mapped IMDS", exactMetadata, "::ffff:169.254.169.254", true},
		{"exact entry keeps other metadata shut", exactMetadata, "169.254.170.2", false},
		{"multicast never opens", mustPolicy(t, "224.0.0.0/4"), "224.0.0.1", false},
		{"broadcast never opens", mustPolicy(t, "255.255.255.255"), "255.255.255.255", false},
		{"unspecified never opens", mustPolicy(t, "0.0.0.0/8,loopback,private"), "0.0.0.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(netip.MustParseAddr(tt.addr))
			if got := err == nil; got != tt.allow {
				t.Fatalf("Check(%s) = %v, want allowed=%v", tt.addr, err, tt.allow)
			}
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Errorf("Check(%s) error %v does not match ErrBlocked", tt.addr, err)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result
		wantErr string
	}{
		{in: "", want: ""},
		{in: "10.0.0.0/8,127.0.0.1/32", want: "10.0.0.0/8,127.0.0.1/32"},
		{in: " loopback , PRIVATE ", want: "loopback,private"},
		{in: "10.0.3.7", want: "10.0.3.7/32"},
		{in: "fd00:ec2::254", want: "fd00:ec2::254/128"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "10.0.0.0/8,,", want: "10.0.0.0/8"},
		{in: "0.0.0.0/0", wantErr: "/0 prefix"},
		{in: "::/0", wantErr: "/0 prefix"},
		{in: "10.0.0.0/33", wantErr: "not a valid CIDR prefix"},
		{in: "vllm.internal", wantErr: `"vllm.internal": it is not an IP address`},
		{in: "fe80::1%eth0", wantErr: "not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePolicy(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePolicy(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", tt.in, err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			again, err := ParsePolicy(p.String())
			if err != nil || again.String() != p.String() {
				t.Errorf("round trip of %q gave %q, %v", p.String(), again.String(), err)
			}
		})
	}
}

func TestPolicyIsAFlagValue(t *testing.T) {
	var p Policy
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Var(&p, FlagName, "outbound allowlist")
	args := []string{"-outbound-allow=10.0.0.0/8", "-outbound-allow=loopback,127.0.0.1"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "loopback,10.0.0.0/8,127.0.0.1/32"; got != want {
		t.Errorf("repeated flags gave %q, want %q", got, want)
	}
}

func TestPolicyCopiesDoNotShareAllowlist(t *testing.T) {
	base := mustPolicy(t, "10.0.0.0/8,10.1.0.0/16")
	base.Allow = base.Allow[:1:2] // spare capacity an append could write into
	a, b := base, base
	if err := a.Set("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("192.168.0.0/16"); err != nil {
		t.Fatal(err)
	}
	if a.String() != "10.0.0.0/8,127.0.0.1/32" || b.String() != "10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("copies interfered: a=%q b=%q", a.String(), b.String())
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	tests := []struct {
		err  *BlockedError
		want []string
	}{
		{
			&BlockedError{Addr: netip.MustParseAddr("169.254.169.254"), Class: ClassMetadata},
			[]string{"blocked: 169.254.169.254 is a cloud metadata address", "169.254.169.254/32 on its own"},
		},
		{
			&BlockedError{Host: "evil.test", Addr: netip.MustParseAddr("127.0.0.1"), Class: ClassLoopback},
			[]string{"blocked: 127.0.0.1 (resolved from evil.test) is a loopback address", "-outbound-allow=127.0.0.1/32"},
		},
		{
			&BlockedError{Host: "metadata.google.internal", Class: ClassMetadata},
			[]string{"blocked: metadata.google.internal is a cloud metadata address", "by name"},
		},
		{
			&BlockedError{Host: "127.1", Class: ClassNumericHost},
			[]string{"127.1 is a non-standard numeric IPv4 address", "dotted quad"},
		},
		{
			&BlockedError{Addr: netip.MustParseAddr("10.0.0.1"), Class: ClassPrivate},
			[]string{"private address", "in-cluster", "-outbound-allow=10.0.0.1/32 (or private)"},
		},
		{
			&BlockedError{Addr: netip.MustParseAddr("::1"), Class: ClassLoopback},
			[]string{"::1 is a loopback address", "-outbound-allow=::1/128 (or loopback)"},
		},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		for _, want := range tt.want {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
	}
}

func mustPolicy(t testing.TB, s string) Policy {
	t.Helper()
	p, err := ParsePolicy(s)
	if err != nil {
		t.Fatalf("ParsePolicy(%q): %v", s, err)
	}
	return p
}

func BenchmarkPolicyCheck(b *testing.B) {
	p := mustPolicy(b, "10.0.0.0/8,127.0.0.1/32")
	addrs := []netip.Addr{
		netip.MustParseAddr("104.18.7.192"),
		netip.MustParseAddr("2606:4700::6812:7c0"),
		netip.MustParseAddr("10.0.3.7"),
		netip.MustParseAddr("169.254.169.254"),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = p.Check(addrs[i%len(addrs)])
	}
}
