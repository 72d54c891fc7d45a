package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/services/gateway/gatewayapp"
	"github.com/switchyard/switchyard/tests/fakes"
)

const (
	firstByteTimeout = 400 * time.Millisecond
	idleTimeout      = 400 * time.Millisecond
)

func shortTimeouts(cfg *gatewayapp.Config) {
	cfg.Router.Edge.FirstByteTimeout = firstByteTimeout
	cfg.Router.Edge.StreamIdleTimeout = idleTimeout
}

// streamKinds are the protocols whose streams the edge handles
// differently (passthrough, Anthropic events, Gemini chunks).
var streamKinds = []string{"openai", "anthropic", "gemini"}

// F10: an upstream that never sends headers gets a 504 at the first-byte
// timeout, and its request is cancelled.
func TestEdgeFirstByteTimeout(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{}, shortTimeouts)
	for _, name := range streamKinds {
		t.Run(name, func(t *testing.T) {
			k, up := kindNamed(name), g.fakes[name]
			up.Update(func(c *fakes.Config) { c.TTFB = time.Minute })
			defer up.Update(func(c *fakes.Config) { c.TTFB = 0 })
			c := g.client("/v1")
			start := time.Now()
			stream := c.Chat.Completions.NewStreaming(context.Background(), userChat(k.model, "hi"))
			for stream.Next() {
			}
			took := time.Since(start)
			apiErr := assertAPIError(t, stream.Err(), 504, "")
			if took < firstByteTimeout || took > firstByteTimeout+time.Second || apiErr.Code != "upstream_timeout" {
				t.Fatalf("504 %q after %v", apiErr.Code, took)
			}
			if _, ok := up.WaitStats(time.Second, func(s fakes.Stats) bool { return s.Cancelled == 1 }); !ok {
				t.Fatal("upstream request not cancelled")
			}
		})
	}
}

// F11 and mid-stream failures: a stall, a dropped connection and an error
// event after some output all end the SDK's stream with an error (never a
// clean end), and a stall is cancelled upstream.
func TestEdgeStreamFailuresSurfaceInTheSDK(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{Chunks: 6}, shortTimeouts)
	faults := []struct {
		name   string
		set    func(*fakes.Config)
		cancel bool
	}{
		{"stall", func(c *fakes.Config) { c.StallAfter = 2 }, true},
		{"drop", func(c *fakes.Config) { c.DropAfter = 2 }, false},
		{"error event", func(c *fakes.Config) { c.ErrorAfter = 2 }, false},
	}
	for _, name := range streamKinds {
		for _, f := range faults {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				k, up := kindNamed(name), g.fakes[name]
				up.ResetRecords()
				up.Update(f.set)
				defer up.Update(func(c *fakes.Config) { c.StallAfter, c.DropAfter, c.ErrorAfter = 0, 0, 0 })
				c := g.client("/v1")
				stream := c.Chat.Completions.NewStreaming(context.Background(), userChat(k.model, "hi"))
				var content string
				for stream.Next() {
					if ch := stream.Current(); len(ch.Choices) > 0 {
						content += ch.Choices[0].Delta.Content
					}
				}
				if stream.Err() == nil {
					t.Fatalf("stream ended cleanly after %q", content)
				}
				if content == "" {
					t.Fatal("no output before the failure")
				}
				if f.cancel {
					if _, ok := up.WaitStats(time.Second, func(s fakes.Stats) bool { return s.Cancelled == 1 }); !ok {
						t.Fatal("stalled upstream not cancelled")
					}
				}
			})
		}
	}
}

// F16: a client that goes away mid-stream cancels the upstream request
// within a second.
func TestEdgeClientDisconnectCancelsUpstream(t *testing.T) {
	g := startEdgeGateway(t, fakes.Config{Chunks: 50, ChunkDelay: 100 * time.Millisecond}, nil)
	for _, name := range streamKinds {
		t.Run(name, func(t *testing.T) {
			k, up := kindNamed(name), g.fakes[name]
			up.ResetRecords()
			ctx, cancel := context.WithCancel(context.Background())
			c := g.client("/v1")
			stream := c.Chat.Completions.NewStreaming(ctx, userChat(k.model, "hi"))
			for stream.Next() {
				if ch := stream.Current(); len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
					break
				}
			}
			cancel()
			left := time.Now()
			_ = stream.Close()
			s, ok := up.WaitStats(time.Second, func(s fakes.Stats) bool { return s.Cancelled == 1 })
			if !ok {
				t.Fatalf("upstream not cancelled within 1s: %+v", s)
			}
			t.Logf("%s: upstream cancelled %v after the client left", name, s.LastCancel.Sub(left))
		})
	}
}
