package edgejson

import (
	"strings"
	"testing"
)

// typicalChat is a ~2 KB chat completion request: a system prompt, a short
// conversation and sampling parameters, as SDKs send them.
var typicalChat = []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},` +
	`"temperature":0.7,"top_p":1,"max_tokens":512,"user":"user-1234","messages":[` +
	`{"role":"system","content":"` + strings.Repeat("You are a helpful assistant. Answer briefly. ", 12) + `"},` +
	`{"role":"user","content":"` + strings.Repeat("Please summarise the following text. ", 14) + `"},` +
	`{"role":"assistant","content":"` + strings.Repeat("Here is a short summary of it. ", 10) + `"},` +
	`{"role":"user","content":"` + strings.Repeat("Thanks! Now in French, please. ", 10) + `"}]}`)

func BenchmarkScanTypicalChat(b *testing.B) {
	b.SetBytes(int64(len(typicalChat)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(typicalChat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewriteModelAfterScan(b *testing.B) {
	req, err := Scan(typicalChat)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(typicalChat)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := req.RewriteModel(typicalChat, "gpt-4o-mini-2024-07-18"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanHostile(b *testing.B) {
	bodies := map[string][]byte{
		"100k-deep":   []byte(nested(100_000)),
		"1MB-string":  []byte(`{"model":"m","input":"` + strings.Repeat("x", 1<<20) + `"}`),
		"1M-elements": []byte(`{"model":"m","input":[` + strings.Repeat("1,", 1_000_000) + `1]}`),
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_, _ = Scan(body)
			}
		})
	}
}
