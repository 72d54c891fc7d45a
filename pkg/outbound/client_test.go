package outbound

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAllowlistReachesLocalServer(t *testing.T) {
	tests := []struct {
		policy string
		host   string
		allow  bool
	}{
		{"127.0.0.1/32", "127.0.0.1", true},
		{"127.0.0.1", "localhost", true},
		{"loopback", "127.0.0.1", true},
		{"127.0.0.0/8", "127.0.0.1", true},
		{"", "127.0.0.1", false},
		{"private", "127.0.0.1", false},
		{"10.0.0.0/8,192.168.0.0/16", "127.0.0.1", false},
		{"127.0.0.2/32", "127.0.0.1", false},
		{"::1", "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q to %s", tt.policy, tt.host), func(t *testing.T) {
			srv := newCountingServer(t, false, okHandler)
			client := NewClient(mustPolicy(t, tt.policy), Options{Logger: quietLogger})
			_, body, err := get(t, client, fmt.Sprintf("http://%s:%d/v1/models", tt.host, srv.port()))
			if tt.allow {
				if err != nil || body != "ok" {
					t.Fatalf("allowlisted GET = %q, %v", body, err)
				}
				return
			}
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("GET under %q = %v, want ErrBlocked", tt.policy, err)
			}
			if n := srv.conns.Load(); n != 0 {
				t.Errorf("server accepted %d connections, want 0", n)
			}
		})
	}
}

func TestRedirectsAreReturnedNotFollowed(t *testing.T) {
	tests := []struct {
		name     string
		location string
	}{
		{"to IMDS", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
		{"to mapped IMDS", "http://[::ffff:169.254.169.254]/"},
		{"to allowed path on same server", "/second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/start" {
					http.Redirect(w, r, tt.location, http.StatusFound)
					return
				}
				okHandler(w, r)
			})
			connects := connectLog{onlyLocal: true}
			client := newClient(mustPolicy(t, "127.0.0.1/32"), Options{Logger: quietLogger}, connects.record)
			resp, _, err := get(t, client, srv.URL+"/start")
			if err != nil {
				t.Fatalf("GET /start: %v", err)
			}
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.location {
				t.Errorf("got %d Location %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), tt.location)
			}
			if n := srv.hitsOn("/second"); n != 0 {
				t.Errorf("redirect target served %d requests", n)
			}
			for _, ap := range connects.snapshot() {
				if ap.Addr().String() != "127.0.0.1" {
					t.Errorf("client connected to %v", ap)
				}
			}
		})
	}
}

func TestTLSVerificationIsPerClient(t *testing.T) {
	srv := newCountingServer(t, true, okHandler)
	policy := mustPolicy(t, "127.0.0.1/32")
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"verifies by default", Options{}, "x509"},
		{"allow-insecure service", Options{InsecureSkipVerify: true}, ""},
		{"per-service CA bundle", Options{RootCAs: roots}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quietLogger
			_, body, err := get(t, NewClient(policy, tt.opts), srv.URL+"/v1/models")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GET = %q, %v; want an error containing %q", body, err, tt.wantErr)
				}
				return
			}
			if err != nil || body != "ok" {
				t.Fatalf("GET = %q, %v", body, err)
			}
		})
	}
}

func TestProxyEnvironmentIsIgnored(t *testing.T) {
	proxy := newTrapListener(t)
	proxyURL := fmt.Sprintf("http://127.0.0.1:%d", proxy.port)
	for _, name := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(name, proxyURL)
	}
	t.Setenv("NO_PROXY", "")
	srv := newCountingServer(t, false, okHandler)
	resolver := newStubResolver(map[string][]string{"upstream.test": {"127.0.0.1"}})
	transport := NewTransport(mustPolicy(t, "127.0.0.1/32"), Options{Resolver: resolver, Logger: quietLogger})
	if transport.Proxy != nil {
		t.Fatal("transport has a Proxy func")
	}
	client := &http.Client{Transport: transport}
	// A non-loopback name: ProxyFromEnvironment never proxies loopback hosts.
	target := fmt.Sprintf("http://upstream.test:%d/", srv.port())
	if _, body, err := get(t, client, target); err != nil || body != "ok" {
		t.Fatalf("GET = %q, %v", body, err)
	}
	if n := proxy.accepts.Load(); n != 0 {
		t.Errorf("proxy received %d connections", n)
	}
}

func TestTransportSettings(t *testing.T) {
	tests := []struct {
		name                          string
		opts                          Options
		wantHeader, wantIdle, wantTLS time.Duration
		wantPerHost                   int
		wantInsecure                  bool
	}{
		{"defaults", Options{}, 5 * time.Minute, 90 * time.Second, 10 * time.Second, 256, false},
		{"probe", Options{ResponseHeaderTimeout: 10 * time.Second, InsecureSkipVerify: true}, 10 * time.Second, 90 * time.Second, 10 * time.Second, 256, true},
		{"tuned", Options{ResponseHeaderTimeout: -1, IdleConnTimeout: time.Minute, TLSHandshakeTimeout: 3 * time.Second, MaxIdleConnsPerHost: 32}, 0, time.Minute, 3 * time.Second, 32, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTransport(Policy{}, tt.opts)
			if tr.ResponseHeaderTimeout != tt.wantHeader || tr.IdleConnTimeout != tt.wantIdle || tr.TLSHandshakeTimeout != tt.wantTLS {
				t.Errorf("timeouts header=%v idle=%v tls=%v", tr.ResponseHeaderTimeout, tr.IdleConnTimeout, tr.TLSHandshakeTimeout)
			}
			if tr.MaxIdleConnsPerHost != tt.wantPerHost {
				t.Errorf("MaxIdleConnsPerHost = %d, want %d", tr.MaxIdleConnsPerHost, tt.wantPerHost)
			}
			if tr.TLSClientConfig.InsecureSkipVerify != tt.wantInsecure {
				t.Errorf("InsecureSkipVerify = %v", tr.TLSClientConfig.InsecureSkipVerify)
			}
			if tr.Proxy != nil || tr.DialContext == nil || tr.DialTLSContext != nil {
				t.Error("transport must dial through the guard and never through a proxy")
			}
		})
	}
}

func TestPolicyEditsAfterConstructionDoNotLeak(t *testing.T) {
	srv := newCountingServer(t, false, okHandler)
	policy := mustPolicy(t, "10.0.0.0/8")
	client := NewClient(policy, Options{Logger: quietLogger})
	policy.Allow[0] = mustPolicy(t, "127.0.0.0/8").Allow[0]
	if _, _, err := get(t, client, srv.URL+"/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("GET after editing the caller's policy = %v, want ErrBlocked", err)
	}
}

func TestNonTCPNetworksAreRefused(t *testing.T) {
	g := &dialGuard{logger: quietLogger}
	for _, network := range []string{"udp", "unix", "ip4:icmp"} {
		if _, err := g.dialContext(t.Context(), network, "127.0.0.1:53"); err == nil {
			t.Errorf("dialContext(%q) succeeded", network)
		}
	}
}
