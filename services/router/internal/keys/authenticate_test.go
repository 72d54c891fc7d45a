package keys

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// fixture is a snapshot of minted keys for tests.
type fixture struct {
	cache Cache
	keys  map[string]string // name -> key
	recs  map[string]*pb.ConsumerKey
}

func newFixture(t testing.TB, recs map[string]*pb.ConsumerKey) *fixture {
	t.Helper()
	f := &fixture{keys: map[string]string{}, recs: recs}
	var all []*pb.ConsumerKey
	for name, rec := range recs {
		m, err := Mint(nil)
		if err != nil {
			t.Fatal(err)
		}
		rec.Hash, rec.Prefix = m.Digest.Hex(), m.Prefix
		if rec.Id == "" {
			rec.Id = "key_" + name
		}
		f.keys[name] = m.Key
		all = append(all, rec)
	}
	f.cache.Store(NewSnapshot(all))
	return f
}

func (f *fixture) authenticator(cfg Config) *Authenticator {
	return NewAuthenticator(cfg, &f.cache, slog.New(slog.DiscardHandler))
}

func request(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, map[string]*pb.ConsumerKey{
		"a":       {Owner: "a@x.example"},
		"b":       {Owner: "b@y.example"},
		"revoked": {Owner: "r@x.example", Revoked: true},
		"expired": {Owner: "e@x.example", ExpiresAt: timestamppb.New(now.Add(-time.Second))},
		"future":  {Owner: "f@x.example", ExpiresAt: timestamppb.New(now.Add(time.Hour))},
	})
	auth := f.authenticator(DefaultConfig())
	auth.now = func() int64 { return now.UnixNano() }
	bHash := f.recs["b"].GetHash()
	cases := []struct {
		name    string
		headers []string
		wantID  string // "" expects an error
		want    error
		message string
	}{
		{"bearer", []string{"Authorization", "Bearer " + f.keys["a"]}, "key_a", nil, ""},
		{"bearer lower case", []string{"Authorization", "bearer " + f.keys["b"]}, "key_b", nil, ""},
		{"x-api-key", []string{"X-Api-Key", f.keys["a"]}, "key_a", nil, ""},
		{"not yet expired", []string{"Authorization", "Bearer " + f.keys["future"]}, "key_future", nil, ""},
		{"no header", nil, "", ErrMissingKey, "didn't provide an API key"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "", ErrMissingKey, ""},
		{"basic auth", []string{"Authorization", "Basic YTpi"}, "", ErrMissingKey, ""},
		{"unknown key", []string{"Authorization", "Bearer sy-" + strings.Repeat("x", keyBodyLen)}, "", ErrInvalidKey, "Incorrect API key"},
		{"provider-looking key", []string{"Authorization", "Bearer sk-proj-abc"}, "", ErrInvalidKey, ""},
		{"a key with a character dropped", []string{"Authorization", "Bearer " + f.keys["a"][:KeyLen-1]}, "", ErrInvalidKey, ""},
		{"another key's digest as the key", []string{"Authorization", "Bearer " + bHash}, "", ErrInvalidKey, ""},
		{"another key's display prefix", []string{"Authorization", "Bearer " + f.recs["b"].GetPrefix()}, "", ErrInvalidKey, ""},
		{"revoked", []string{"Authorization", "Bearer " + f.keys["revoked"]}, "", ErrInvalidKey, "revoked"},
		{"expired", []string{"Authorization", "Bearer " + f.keys["expired"]}, "", ErrInvalidKey, "expired"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := auth.Authenticate(request(fmt.Sprintf("10.0.0.%d:1234", i), tc.headers...))
			if tc.wantID != "" {
				if err != nil || p.ID != tc.wantID {
					t.Fatalf("Authenticate = %v, %v; want %s", p, err, tc.wantID)
				}
				return
			}
			var ke *Error
			if p != nil || !errors.Is(err, tc.want) || !errors.As(err, &ke) || ke.Status != http.StatusUnauthorized {
				t.Fatalf("Authenticate = %v, %v; want 401 %v", p, err, tc.want)
			}
			if !strings.Contains(ke.Message, tc.message) {
				t.Errorf("message %q lacks %q", ke.Message, tc.message)
			}
			assertNoSecret(t, ke, f.keys)
		})
	}
}

// assertNoSecret checks that an error's body is OpenAI-shaped and echoes
// no key.
func assertNoSecret(t *testing.T, e *Error, keys map[string]string) {
	t.Helper()
	var body struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(e.JSON(), &body); err != nil || body.Error.Message == "" || body.Error.Type == "" {
		t.Fatalf("body %s is not OpenAI-shaped: %v", e.JSON(), err)
	}
	for _, k := range keys {
		if strings.Contains(string(e.JSON()), k[len(KeyPrefix):len(KeyPrefix)+10]) {
			t.Fatalf("body %s echoes a key", e.JSON())
		}
	}
}

func TestAuthOffIsAnonymous(t *testing.T) {
	f := newFixture(t, nil)
	auth := f.authenticator(Config{Auth: AuthOff})
	p, err := auth.Authenticate(request("10.0.0.1:1"))
	if err != nil || p != Anonymous || auth.Enabled() {
		t.Fatalf("Authenticate = %v, %v; want Anonymous", p, err)
	}
}

// TestBruteForceFromOneSource is TEST-PLAN S10: ten thousand bad keys from
// one address are answered 429 after the threshold, while a valid key from
// that same address and a bad key from another address are unaffected.
func TestBruteForceFromOneSource(t *testing.T) {
	f := newFixture(t, map[string]*pb.ConsumerKey{"good": {Owner: "g@x.example"}})
	auth := f.authenticator(Config{Auth: AuthOn, FailuresPerMinute: 50})
	counts := map[int]int{}
	var limited *Error
	for i := range 10000 {
		bad := fmt.Sprintf("sy-%0*d", keyBodyLen, i)
		_, err := auth.Authenticate(request("203.0.113.7:4444", "Authorization", "Bearer "+bad))
		var ke *Error
		if !errors.As(err, &ke) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		counts[ke.Status]++
		if ke.Status == http.StatusTooManyRequests {
			limited = ke
		}
		if i%1000 == 0 {
			if p, err := auth.Authenticate(request("203.0.113.7:4445", "Authorization", "Bearer "+f.keys["good"])); err != nil || p.ID != "key_good" {
				t.Fatalf("valid key from the guessing address refused: %v", err)
			}
		}
	}
	if counts[http.StatusUnauthorized] < 50 || counts[http.StatusUnauthorized] > 60 || counts[http.StatusTooManyRequests] < 9940 {
		t.Fatalf("statuses %v: want 50 (+ a refill) 401s, then 429s", counts)
	}
	if !errors.Is(limited, ErrTooManyFailures) || limited.RetryAfter <= 0 || limited.Code != "rate_limit_exceeded" {
		t.Fatalf("429 = %+v", limited)
	}
	h := http.Header{}
	limited.SetHeaders(h)
	if h.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if _, err := auth.Authenticate(request("198.51.100.1:1", "Authorization", "Bearer sy-bad")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("another address is limited too: %v", err)
	}
}

func TestIPv6SourcesShareTheirSlash64(t *testing.T) {
	for addr, want := range map[string]string{
		"[2001:db8:1:2:aaaa::1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:80":  "2001:db8:1:2::/64",
		"192.0.2.1:80":               "192.0.2.1",
		"unix":                       "unix",
	} {
		if got := remoteHost(request(addr)); got != want {
			t.Errorf("remoteHost(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestAuthModeFlag(t *testing.T) {
	var m AuthMode
	for in, want := range map[string]AuthMode{"on": AuthOn, "OFF": AuthOff, "true": AuthOn, "0": AuthOff} {
		if err := m.Set(in); err != nil || m != want {
			t.Errorf("Set(%q) = %v, %v", in, m, err)
		}
	}
	if err := m.Set("maybe"); err == nil {
		t.Error("Set(maybe) accepted")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	recs := map[string]*pb.ConsumerKey{}
	for i := range 10000 {
		recs[fmt.Sprint(i)] = &pb.ConsumerKey{Owner: "o@x.example", ExpiresAt: timestamppb.New(time.Now().Add(time.Hour))}
	}
	f := newFixture(b, recs)
	auth := f.authenticator(DefaultConfig())
	b.Run("hit", func(b *testing.B) {
		r := request("10.0.0.1:1", "Authorization", "Bearer "+f.keys["42"])
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unknown", func(b *testing.B) {
		auth.perMin = 1 << 40 // measure the 401 path, not the 429 one
		r := request("10.0.0.2:1", "Authorization", "Bearer sy-"+strings.Repeat("z", keyBodyLen))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth.Authenticate(r); !errors.Is(err, ErrInvalidKey) {
				b.Fatal(err)
			}
		}
	})
}
