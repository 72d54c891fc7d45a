package main

import (
	"slices"
	"testing"
	"time"
)

func TestFlagsBuildConfig(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		wantModels []string
		wantChunks int
		wantTTFB   time.Duration
		wantErr    bool
	}{
		{"defaults", nil, nil, 4, 0, false},
		{"bench", []string{"-protocol", "anthropic", "-model", "a, b", "-latency", "50ms", "-chunks", "200"},
			[]string{"a", "b"}, 200, 50 * time.Millisecond, false},
		{"bad duration", []string{"-latency", "soon"}, nil, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			cfg := o.config()
			if !slices.Equal(cfg.Models, tc.wantModels) || cfg.Chunks != tc.wantChunks || cfg.TTFB != tc.wantTTFB {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestRunRejectsUnknownProtocol(t *testing.T) {
	if err := run([]string{"-protocol", "bedrock", "-listen", "127.0.0.1:0"}); err == nil {
		t.Fatal("unknown protocol accepted")
	}
}
