package routerapp

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestRouterFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-router.ratelimit-failure=closed", "-router.redis-url=redis://127.0.0.1:6379/0", "-router.ratelimit-replicas=3"}, ""},
		{[]string{"-router.ratelimit-failure=maybe"}, "open or closed"},
		{[]string{"-router.ratelimit-replicas=0"}, "at least 1"},
		{[]string{"-router.redis-url=http://user:hunter2@h:1"}, "redis-url"},
		{[]string{"-router.max-attempts=0"}, "max-attempts"},
	}
	for _, tc := range tests {
		var c Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs, "router.")
		c.NATS.URL = "nats://127.0.0.1:4222"
		err := fs.Parse(tc.args)
		if err == nil {
			err = c.Validate()
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want one mentioning %q", tc.args, err, tc.wantErr)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%v: the Redis password is in the error: %v", tc.args, err)
		}
	}
}

func TestMemoryLimiterByDefault(t *testing.T) {
	lim, backend, closeFn, err := newLimiter(LimitsConfig{Replicas: 1}, slog.New(slog.DiscardHandler))
	if err != nil || lim == nil || backend != "memory" {
		t.Fatalf("default limiter: %v %q %v", lim, backend, err)
	}
	closeFn()
}
