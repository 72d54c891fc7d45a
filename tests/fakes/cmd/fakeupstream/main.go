// Command fakeupstream runs one fake provider upstream standalone, for
// `make bench` and the docker compose smoke test.
//
//	fakeupstream -protocol anthropic -listen :9001 -key sk-test -model claude-sonnet-4-5 -latency 50ms -chunks 200
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/tests/fakes"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		slog.Error("fakeupstream", "err", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	protocol, listen, key, models string
	latency, chunkDelay           time.Duration
	chunks, tokensPerChunk        int
	failFraction                  float64
	stampChunks                   bool
	failStatus                    int
	retryAfter                    string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("fakeupstream", flag.ContinueOnError)
	fs.StringVar(&o.protocol, "protocol", "openai", "openai | vllm | nim | anthropic | gemini | azure")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9000", "address to listen on")
	fs.StringVar(&o.key, "key", "", "provider API key to require (empty: no auth)")
	fs.StringVar(&o.models, "model", "", "comma-separated model ids (Azure: deployments); empty: protocol default")
	fs.DurationVar(&o.latency, "latency", 0, "time to first byte (delay before response headers)")
	fs.DurationVar(&o.chunkDelay, "chunk-delay", 0, "delay between stream content chunks")
	fs.IntVar(&o.chunks, "chunks", 4, "content chunks per streamed answer")
	fs.BoolVar(&o.stampChunks, "stamp-chunks", false, "each stream chunk's text is T<Unix ns when written>, for per-chunk latency (loadbench)")
	fs.IntVar(&o.tokensPerChunk, "tokens-per-chunk", 1, "tokens (words) per chunk")
	fs.Float64Var(&o.failFraction, "fail-fraction", 0, "fraction of inference requests to fail (0..1)")
	fs.IntVar(&o.failStatus, "fail-status", 503, "status of injected failures")
	fs.StringVar(&o.retryAfter, "retry-after", "", "Retry-After seconds on injected failures")
	err := fs.Parse(args)
	return o, err
}

func (o options) config() fakes.Config {
	cfg := fakes.Config{APIKey: o.key, TTFB: o.latency, ChunkDelay: o.chunkDelay,
		Chunks: o.chunks, TokensPerChunk: o.tokensPerChunk, StampChunks: o.stampChunks}
	for _, m := range strings.Split(o.models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			cfg.Models = append(cfg.Models, m)
		}
	}
	return cfg
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	proto, err := fakes.ParseProtocol(o.protocol)
	if err != nil {
		return err
	}
	f := fakes.New(proto, o.config())
	if o.failFraction > 0 {
		f.FailFraction(o.failFraction, fakes.Fault{Status: o.failStatus, RetryAfter: o.retryAfter})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.Info("fakeupstream listening", "protocol", proto, "addr", o.listen,
		"models", strings.Join(f.Config().Models, ","), "auth", o.key != "")
	if err := f.ListenAndServe(ctx, o.listen); err != nil {
		return fmt.Errorf("serve %s: %w", o.listen, err)
	}
	s := f.Stats()
	slog.Info("fakeupstream stopped", "requests", s.Requests, "completed", s.Completed,
		"prompt_tokens", s.Reported.Prompt, "completion_tokens", s.Reported.Completion)
	return nil
}
