package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheckHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			_, _ = w.Write([]byte("ready"))
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	tests := []struct {
		name, target, wantBody string
		wantErr                error
	}{
		{"ready", srv.URL + "/readyz", "ready", nil},
		{"not ready", srv.URL + "/other", "", errUnhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body bytes.Buffer
			err := check(context.Background(), tt.target, &body)
			if !errors.Is(err, tt.wantErr) || body.String() != tt.wantBody {
				t.Fatalf("check = %v, body %q; want %v, %q", err, body.String(), tt.wantErr, tt.wantBody)
			}
		})
	}
}

func TestCheckRedis(t *testing.T) {
	tests := []struct {
		name, answer string
		wantErr      error
	}{
		{"pong", "+PONG\r\n", nil},
		{"loading", "-LOADING Redis is loading the dataset in memory\r\n", errUnhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				buf := make([]byte, 64)
				_, _ = c.Read(buf)
				_, _ = c.Write([]byte(tt.answer))
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := check(ctx, "redis://"+ln.Addr().String(), nil); !errors.Is(err, tt.wantErr) {
				t.Fatalf("check = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckRejectsUnknownScheme(t *testing.T) {
	if err := check(context.Background(), "ftp://x", nil); err == nil {
		t.Fatal("ftp target accepted")
	}
}
