package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// s1Case is one row of TEST-PLAN.md S1. Ports of loopback targets point at
// the trap listener instead of 8222/6379, so a connection that slipped
// through would be counted rather than hit another engineer's server.
type s1Case struct {
	name    string
	url     string // %d is the trap port
	class   Class  // class the dial-time guard reports; ClassPublic = refused before dialling (scheme)
	dnsOnly bool   // only DNS can tell: CheckURL passes it and the dial-time guard must refuse
}

var s1Matrix = []s1Case{
	{"AWS IMDS", "http://169.254.169.254/latest/meta-data/", ClassMetadata, false},
	{"AWS IMDS IPv6", "http://[fd00:ec2::254]/", ClassMetadata, false},
	{"GCP metadata name", "http://metadata.google.internal/", ClassMetadata, false},
	{"Alibaba metadata", "http://100.100.100.200/", ClassMetadata, false},
	{"NATS monitor on loopback", "http://127.0.0.1:%d/varz", ClassLoopback, false},
	{"localhost", "http://localhost:%d", ClassLoopback, false},
	{"unspecified IPv4", "http://0.0.0.0:%d/", ClassUnspecified, false},
	{"unspecified IPv6", "http://[::]:%d/", ClassUnspecified, false},
	{"IPv6 loopback", "http://[::1]:%d/", ClassLoopback, false},
	{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:%d/", ClassLoopback, false},
	{"IPv4-mapped IMDS", "http://[::ffff:169.254.169.254]/", ClassMetadata, false},
	{"IPv4-compatible IMDS", "http://[::169.254.169.254]/", ClassMetadata, false},
	{"NAT64 IMDS", "http://[64:ff9b::a9fe:a9fe]/", ClassMetadata, false},
	{"decimal", "http://2130706433:%d/", ClassNumericHost, false},
	{"hex", "http://0x7f000001:%d/", ClassNumericHost, false},
	{"octal", "http://017700000001:%d/", ClassNumericHost, false},
	{"short form", "http://127.1:%d/", ClassNumericHost, false},
	{"name resolving to loopback", "http://loopback.evil.test:%d/", ClassLoopback, true},
	{"name resolving to IMDS", "http://imds.evil.test/", ClassMetadata, true},
	{"name resolving to mapped loopback", "http://mapped.evil.test:%d/", ClassLoopback, true},
	{"file scheme", "file:///etc/passwd", ClassPublic, false},
	{"gopher scheme", "gopher://127.0.0.1:%d/_FLUSHALL", ClassPublic, false},
	{"userinfo", "https://user:pass@127.0.0.1:%d/", ClassLoopback, false},
	{"fullwidth localhost", "http://ｌｏｃａｌｈｏｓｔ:%d/", ClassLoopback, false},
	{"enclosed digits 127.0.0.1", "http://①②⑦。0。0。1:%d/", ClassLoopback, false},
}

func s1Resolver() *stubResolver {
	return newStubResolver(map[string][]string{
		"loopback.evil.test": {"127.0.0.1"},
		"imds.evil.test":     {"169.254.169.254"},
		"mapped.evil.test":   {"::ffff:127.0.0.1,::1"},
	})
}

func TestS1MatrixRefusedWithZeroConnections(t *testing.T) {
	trap := newTrapListener(t)
	connects := connectLog{onlyLocal: true}
	client := newClient(Policy{}, Options{Resolver: s1Resolver(), Logger: quietLogger}, connects.record)
	for _, tc := range s1Matrix {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.url
			if strings.Contains(target, "%d") {
				target = fmt.Sprintf(tc.url, trap.port)
			}
			if _, err := (Policy{}).CheckURL(target); (err == nil) != tc.dnsOnly {
				t.Errorf("CheckURL(%q) = %v; want refused=%v", target, err, !tc.dnsOnly)
			}
			resp, _, err := get(t, client, target)
			if err == nil {
				t.Fatalf("GET %s succeeded with status %d", target, resp.StatusCode)
			}
			assertRefusal(t, err, tc.class)
			if strings.Contains(err.Error(), ":pass@") {
				t.Errorf("error echoes the URL password: %v", err)
			}
		})
	}
	if n := trap.accepts.Load(); n != 0 {
		t.Errorf("trap listener accepted %d connections, want 0", n)
	}
	if got := connects.snapshot(); len(got) != 0 {
		t.Errorf("guard let %d connects through: %v", len(got), got)
	}
}

func assertRefusal(t *testing.T, err error, class Class) {
	t.Helper()
	if class == ClassPublic {
		if errors.Is(err, ErrBlocked) {
			t.Errorf("want a scheme refusal, got a guard refusal: %v", err)
		}
		return
	}
	var blocked *BlockedError
	if !errors.Is(err, ErrBlocked) || !errors.As(err, &blocked) {
		t.Fatalf("error %v is not a guard refusal", err)
	}
	if blocked.Class != class {
		t.Errorf("class = %v, want %v (%v)", blocked.Class, class, err)
	}
	if want := "is a " + class.String() + " address"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not name the class (%q)", err, want)
	}
}

// TestTrapDetectsUnguardedDials shows the trap would catch a leak: without
// the guard, the same targets do connect.
func TestTrapDetectsUnguardedDials(t *testing.T) {
	trap := newTrapListener(t)
	targets := []string{"127.0.0.1", "::1", "0.0.0.0", "::ffff:127.0.0.1"}
	for _, host := range targets {
		conn, err := net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(trap.port)))
		if err != nil {
			t.Fatalf("unguarded dial to %s: %v", host, err)
		}
		_ = conn.Close()
	}
	client := newClient(Policy{AllowLoopback: true}, Options{Logger: quietLogger}, nil)
	if _, _, err := get(t, client, fmt.Sprintf("http://localhost:%d/", trap.port)); err == nil {
		t.Fatal("trap answered HTTP; it should only accept and close")
	}
	want := int64(len(targets) + 1)
	if n := trap.accepts.Load(); n < want {
		t.Errorf("trap counted %d accepts, want at least %d", n, want)
	}
}

// TestControlRefusesBeforeConnect covers addresses no test can bind: the
// Control hook itself refuses them, and the connect hook (which runs where
// connect(2) would follow) is never reached.
func TestControlRefusesBeforeConnect(t *testing.T) {
	blocked := []string{
		"169.254.169.254:80", "[fd00:ec2::254]:80", "100.100.100.200:80", "168.63.129.16:80",
		"[::ffff:169.254.169.254]:80", "[fe80::1%eth0]:80", "10.0.0.1:443", "[fd12::1]:443",
		"100.64.0.1:80", "224.0.0.1:80", "255.255.255.255:80", "240.0.0.1:80", "0.0.0.0:80",
		"127.0.0.1:80", "[::1]:80", "[2002:a9fe:a9fe::1]:80", "not-an-address",
	}
	for _, address := range blocked {
		t.Run(address, func(t *testing.T) {
			var connects connectLog
			g := &dialGuard{logger: quietLogger, beforeConnect: connects.record}
			err := g.control(context.Background(), "tcp", address, nil)
			if !errors.Is(err, ErrBlocked) {
				t.Errorf("control(%s) = %v, want ErrBlocked", address, err)
			}
			if n := len(connects.snapshot()); n != 0 {
				t.Errorf("connect hook ran %d times", n)
			}
		})
	}
	var connects connectLog
	g := &dialGuard{logger: quietLogger, beforeConnect: connects.record}
	if err := g.control(context.Background(), "tcp4", "104.18.7.192:443", nil); err != nil {
		t.Fatalf("public address refused: %v", err)
	}
	if got := connects.snapshot(); len(got) != 1 || got[0].String() != "104.18.7.192:443" {
		t.Errorf("connect hook saw %v, want [104.18.7.192:443]", got)
	}
}

func TestRebindingNameIsCheckedAtDialTime(t *testing.T) {
	resolver := newStubResolver(map[string][]string{
		"rebind.evil.test": {"93.184.215.14", "169.254.169.254"},
	})
	// Registration-time look: the name looks public, so a check-once guard passes it.
	first, err := resolver.LookupNetIP(context.Background(), "ip", "rebind.evil.test")
	if err != nil || (Policy{}).Check(first[0]) != nil {
		t.Fatalf("first lookup = %v, %v; want a public address", first, err)
	}
	connects := connectLog{vetoAlways: true}
	client := newClient(Policy{}, Options{Resolver: resolver, Logger: quietLogger}, connects.record)
	_, _, err = get(t, client, "http://rebind.evil.test/latest/meta-data/")
	assertRefusal(t, err, ClassMetadata)
	if !strings.Contains(err.Error(), "resolved from rebind.evil.test") {
		t.Errorf("message %q does not name the requested host", err)
	}
	if got := connects.snapshot(); len(got) != 0 {
		t.Errorf("guard let connects through: %v", got)
	}
}

func TestRebindingBetweenRequests(t *testing.T) {
	srv := newCountingServer(t, false, okHandler)
	resolver := newStubResolver(map[string][]string{
		"flip.evil.test": {"127.0.0.1", "169.254.169.254"},
	})
	opts := Options{Resolver: resolver, Logger: quietLogger}
	connects := connectLog{onlyLocal: true}
	client := newClient(mustPolicy(t, "127.0.0.1/32"), opts, connects.record)
	client.Transport.(*http.Transport).DisableKeepAlives = true // force a fresh dial per request
	target := fmt.Sprintf("http://flip.evil.test:%d/", srv.port())
	if _, body, err := get(t, client, target); err != nil || body != "ok" {
		t.Fatalf("first request (127.0.0.1 allowlisted) = %q, %v", body, err)
	}
	_, _, err := get(t, client, target)
	assertRefusal(t, err, ClassMetadata)
	if n := srv.hitsOn("/"); n != 1 {
		t.Errorf("server served %d requests, want 1", n)
	}
}

func TestMixedAnswerSkipsBlockedAddresses(t *testing.T) {
	srv := newCountingServer(t, false, okHandler)
	resolver := newStubResolver(map[string][]string{
		"mixed.test":   {"169.254.169.254,10.0.0.1,127.0.0.1"},
		"blocked.test": {"169.254.169.254,127.0.0.2"},
	})
	connects := connectLog{onlyLocal: true}
	client := newClient(mustPolicy(t, "127.0.0.1/32"), Options{Resolver: resolver, Logger: quietLogger}, connects.record)
	if _, body, err := get(t, client, fmt.Sprintf("http://mixed.test:%d/", srv.port())); err != nil || body != "ok" {
		t.Fatalf("GET mixed.test = %q, %v", body, err)
	}
	_, _, err := get(t, client, fmt.Sprintf("http://blocked.test:%d/", srv.port()))
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "127.0.0.2 (resolved from blocked.test) is a loopback") {
		t.Errorf("all-blocked answer gave %v", err)
	}
	for _, ap := range connects.snapshot() {
		if ap.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("connected to %v", ap)
		}
	}
}
