package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRouteFlag(t *testing.T) {
	cases := []struct {
		in      string
		wantErr bool
	}{
		{"127.0.0.1:1=openai@http://127.0.0.1:2", false},
		{"127.0.0.1:1=anthropic@http://127.0.0.1:2", false},
		{"127.0.0.1:1=gemini@http://127.0.0.1:2", true},
		{"127.0.0.1:1@http://127.0.0.1:2", true},
		{"127.0.0.1:1=openai@nohost", true},
	}
	for _, tc := range cases {
		var l routeList
		if err := l.Set(tc.in); (err != nil) != tc.wantErr {
			t.Errorf("Set(%q) = %v, want error %v", tc.in, err, tc.wantErr)
		}
	}
}

func TestProxyReplacesCredentialsAndForwardsBody(t *testing.T) {
	cases := []struct {
		protocol, header, want string
	}{
		{"openai", "Authorization", "Bearer sk-up"},
		{"anthropic", "X-Api-Key", "sk-up"},
	}
	for _, tc := range cases {
		t.Run(tc.protocol, func(t *testing.T) {
			var got http.Header
			var body string
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				b, _ := io.ReadAll(r.Body)
				body = string(b)
				_, _ = io.WriteString(w, "ok")
			}))
			defer up.Close()
			u, _ := url.Parse(up.URL)
			proxy := httptest.NewServer(bufferBody(newProxy(route{protocol: tc.protocol, upstream: u}, "sk-up", http.DefaultTransport)))
			defer proxy.Close()
			req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/v1/x", strings.NewReader(`{"a":1}`))
			req.Header.Set("Authorization", "Bearer consumer")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.Get(tc.header) != tc.want || body != `{"a":1}` {
				t.Fatalf("upstream saw %s=%q body %q", tc.header, got.Get(tc.header), body)
			}
			if tc.protocol == "anthropic" && got.Get("Authorization") != "" {
				t.Fatal("consumer credential forwarded")
			}
		})
	}
}
