package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// backend answers with its own name.
func backend(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// closedAddr is an address that refuses connections, like a killed replica.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestProxySpreadsAndSkipsDeadBackends(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	tests := []struct {
		name     string
		backends []string
		want     map[string]int
	}{
		{"round robin", []string{a, b}, map[string]int{"a": 5, "b": 5}},
		{"first dead", []string{closedAddr(t), b}, map[string]int{"b": 10}},
		{"second dead", []string{a, closedAddr(t)}, map[string]int{"a": 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPool(tt.backends)
			if err != nil {
				t.Fatal(err)
			}
			edge := httptest.NewServer(p.proxy(slog.New(slog.DiscardHandler)))
			defer edge.Close()
			got := map[string]int{}
			for range 10 {
				resp, err := edge.Client().Get(edge.URL + "/v1/models")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got[string(body)]++
			}
			for k, v := range tt.want {
				if got[k] != v || len(got) != len(tt.want) {
					t.Fatalf("answers %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestNewPoolRejectsBadBackends(t *testing.T) {
	for _, in := range [][]string{{""}, {"router-1"}, {}} {
		if _, err := newPool(in); err == nil {
			t.Errorf("newPool(%q) accepted", in)
		}
	}
}
