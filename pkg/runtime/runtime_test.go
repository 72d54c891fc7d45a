package runtime

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

type fakeModule struct {
	name string
	run  func(ctx context.Context) error
}

func (f fakeModule) Name() string                  { return f.name }
func (f fakeModule) Run(ctx context.Context) error { return f.run(ctx) }
func (f fakeModule) Ready() error                  { return nil }

func TestRunReturns(t *testing.T) {
	oneShot := func(context.Context) error { return nil }
	untilDone := func(ctx context.Context) error { <-ctx.Done(); return nil }
	boom := errors.New("boom")
	failing := func(context.Context) error { return boom }
	tests := []struct {
		name    string
		runs    []func(context.Context) error
		wantErr error
	}{
		{"every module one-shot", []func(context.Context) error{oneShot, oneShot}, nil},
		{"a failure cancels the rest", []func(context.Context) error{untilDone, failing}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []Module
			for _, r := range tt.runs {
				mods = append(mods, fakeModule{name: "m", run: r})
			}
			done := make(chan error, 1)
			go func() { done <- Run(t.Context(), slog.New(slog.DiscardHandler), OpsConfig{}, mods...) }()
			select {
			case err := <-done:
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Fatalf("Run = %v, want %v", err, tt.wantErr)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
		})
	}
}
