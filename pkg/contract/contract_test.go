package contract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/natsx"
)

var hostileInputs = []string{
	"", ".", "..", "*", ">", "gpt-4.>", "a*b", "../x", " ", "a b", "\t", "\x00",
	"meta/llama-3.1-8b-instruct", "models/gemini-2.5:flash", "=", "=41", "héllo",
	strings.Repeat("x.", 5000), "a.b.c", "$JS.API.>", "sy.evt.>",
}

func checkToken(t *testing.T, subject string) {
	t.Helper()
	for _, tok := range strings.Split(subject, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n\x00*>") {
			t.Fatalf("subject %q has a bad token %q", subject, tok)
		}
	}
}

func TestBuildersNeverEmitWildcardsOrEmptyTokens(t *testing.T) {
	builders := map[string]func(string) string{
		"RegistryEvent":   func(s string) string { return RegistryEvent(s, s) },
		"HealthChanged":   HealthChanged,
		"UsageRecorded":   UsageRecorded,
		"RollupPublished": RollupPublished,
		"Key":             func(s string) string { return Key(s, s, "x") },
	}
	for name, build := range builders {
		for _, in := range hostileInputs {
			got := build(in)
			checkToken(t, got)
			if name != "Key" && strings.Count(got, ".") != strings.Count(build("plain"), ".") {
				t.Fatalf("%s(%q) = %q changed the token count", name, in, got)
			}
		}
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, in := range hostileInputs {
		tok := Token(in)
		back, ok := Untoken(tok)
		if !ok || back != in {
			t.Fatalf("Untoken(Token(%q)) = %q, %v", in, back, ok)
		}
	}
	if Token("a.b") == Token("a/b") {
		t.Fatal("distinct inputs collided")
	}
	parts, ok := SplitKey(Key("1m", "meta/llama.3", "svc"))
	if !ok || len(parts) != 3 || parts[1] != "meta/llama.3" {
		t.Fatalf("SplitKey = %v, %v", parts, ok)
	}
}

func FuzzToken(f *testing.F) {
	for _, in := range hostileInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tok := Token(in)
		checkToken(t, "x."+tok)
		if back, ok := Untoken(tok); !ok || back != in {
			t.Fatalf("round trip of %q failed: %q", in, back)
		}
	})
}

// subjectsOverlap reports whether two subject filters can match one subject.
func subjectsOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == ">" || bt[i] == ">" {
			return true
		}
		if at[i] != bt[i] && at[i] != "*" && bt[i] != "*" {
			return false
		}
	}
	return len(at) == len(bt)
}

func TestNoTwoStreamsOverlap(t *testing.T) {
	streams := Declare(DefaultOptions()).Streams
	if !subjectsOverlap("a.>", "a.b.c") || subjectsOverlap("a.b", "a.c") {
		t.Fatal("overlap helper is wrong")
	}
	for i, s := range streams {
		for _, o := range streams[i+1:] {
			for _, x := range s.Subjects {
				for _, y := range o.Subjects {
					if subjectsOverlap(x, y) {
						t.Errorf("streams %s (%s) and %s (%s) overlap", s.Name, x, o.Name, y)
					}
				}
			}
		}
	}
}

func TestUsageStreamNeverDropsUnconsumedEvents(t *testing.T) {
	for _, s := range Declare(DefaultOptions()).Streams {
		if s.Name != StreamUsage {
			continue
		}
		if s.Discard != jetstream.DiscardNew || s.Retention != jetstream.WorkQueuePolicy ||
			s.Storage != jetstream.FileStorage || s.Duplicates < 2*time.Minute {
			t.Fatalf("usage stream config unsafe: %+v", s)
		}
		return
	}
	t.Fatal("no usage stream declared")
}

func TestEnsureTopologyIsIdempotent(t *testing.T) {
	ns := natsx.StartTestServer(t)
	js, err := natsx.JetStream(natsx.TestConn(t, ns, "contract-test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 {
		if err := EnsureTopology(ctx, js, DefaultOptions()); err != nil {
			t.Fatal(err)
		}
	}
	top := Declare(DefaultOptions())
	for _, sc := range top.Streams {
		s, err := js.Stream(ctx, sc.Name)
		if err != nil {
			t.Fatalf("stream %s missing: %v", sc.Name, err)
		}
		if got := s.CachedInfo().Config.Discard; got != sc.Discard {
			t.Fatalf("stream %s discard = %v, want %v", sc.Name, got, sc.Discard)
		}
	}
	for _, kc := range top.Buckets {
		if _, err := js.KeyValue(ctx, kc.Bucket); err != nil {
			t.Fatalf("bucket %s missing: %v", kc.Bucket, err)
		}
	}
	if _, err := js.Consumer(ctx, StreamUsage, ConsumerMetering); err != nil {
		t.Fatalf("metering consumer missing: %v", err)
	}
}
