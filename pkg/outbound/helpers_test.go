package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// quietLogger keeps expected "dial blocked" warnings out of test output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// errNoSuchHost is what stubResolver answers for names it does not know.
var errNoSuchHost = errors.New("no such host (stub resolver)")

// stubResolver answers from a table and never sends a DNS query. Each name
// has a sequence of answers; the last one repeats. "localhost" is passed to
// the system resolver (/etc/hosts), so the real lookup path is exercised.
type stubResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func newStubResolver(answers map[string][]string) *stubResolver {
	r := &stubResolver{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
	for name, seq := range answers {
		for _, answer := range seq {
			var addrs []netip.Addr
			for a := range strings.SplitSeq(answer, ",") {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			r.answers[name] = append(r.answers[name], addrs)
		}
	}
	return r
}

func (r *stubResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return net.DefaultResolver.LookupNetIP(ctx, network, host)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, errNoSuchHost
	}
	n := r.lookups[host]
	r.lookups[host] = n + 1
	return seq[min(n, len(seq)-1)], nil
}

// errVetoed stands in for a connection the test refused to make.
var errVetoed = errors.New("connect vetoed by test")

// connectLog records every address the guard let through to connect(2).
type connectLog struct {
	mu         sync.Mutex
	addrs      []netip.AddrPort
	onlyLocal  bool // veto anything that does not stay on this host
	vetoAlways bool
}

func (l *connectLog) record(ap netip.AddrPort) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrs = append(l.addrs, ap)
	if l.vetoAlways || (l.onlyLocal && !staysOnHost(ap.Addr())) {
		return errVetoed
	}
	return nil
}

// staysOnHost reports whether a connect to addr cannot leave this machine,
// so a test that lets it through (to be counted by a trap) is harmless. If
// the guard regresses, tests must not reach real metadata endpoints.
func staysOnHost(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsLoopback() || addr.IsUnspecified()
}

func (l *connectLog) snapshot() []netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]netip.AddrPort(nil), l.addrs...)
}

// trapListener listens on every local address (dual stack) and counts the
// connections it accepts: any dial to 127.0.0.1, ::1, 0.0.0.0 or
// ::ffff:127.0.0.1 on its port that got through would show up here.
type trapListener struct {
	port    uint16
	accepts atomic.Int64
}

func newTrapListener(t *testing.T) *trapListener {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatalf("trap listener: %v", err)
	}
	trap := &trapListener{port: uint16(ln.Addr().(*net.TCPAddr).Port)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			trap.accepts.Add(1)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return trap
}

// countingServer is an httptest server on 127.0.0.1 that counts the TCP
// connections it accepted and the requests per path.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
	mu    sync.Mutex
	hits  map[string]int
}

func newCountingServer(t *testing.T, tlsServer bool, handler http.HandlerFunc, configure ...func(*http.Server)) *countingServer {
	t.Helper()
	s := &countingServer{hits: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		handler(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	for _, f := range configure {
		f(s.Config)
	}
	if tlsServer {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) hitsOn(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *countingServer) port() uint16 {
	return uint16(s.Listener.Addr().(*net.TCPAddr).Port)
}

func okHandler(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok")
}

// get performs a GET with a short deadline and drains the body.
func get(t *testing.T, client *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("building request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}
