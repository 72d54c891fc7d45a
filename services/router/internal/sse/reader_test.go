package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type wantEvent struct{ name, data, raw string }

func readAll(t testing.TB, r io.Reader, max int) ([]wantEvent, error) {
	t.Helper()
	rd := NewReader(r, max)
	defer rd.Close() // every table row also runs on a recycled buffer
	var got []wantEvent
	for i := 0; i < 1<<16; i++ {
		ev, err := rd.Next()
		if err != nil {
			return got, err
		}
		got = append(got, wantEvent{ev.Name, string(ev.Data), string(ev.Raw)})
	}
	t.Fatal("reader did not terminate")
	return nil, nil
}

func TestReaderEvents(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []wantEvent
	}{
		{"single LF event", "data: {\"a\":1}\n\n", []wantEvent{{"", `{"a":1}`, ""}}},
		{"CRLF delimiters (Gemini)", "data: one\r\n\r\ndata: two\r\n\r\n", []wantEvent{{"", "one", ""}, {"", "two", ""}}},
		{"bare CR endings", "data: one\r\rdata: two\r\r", []wantEvent{{"", "one", ""}, {"", "two", ""}}},
		{"event names (Anthropic)", "event: ping\ndata: {\"type\":\"ping\"}\n\nevent: message_stop\ndata: {}\n\n",
			[]wantEvent{{"ping", `{"type":"ping"}`, ""}, {"message_stop", "{}", ""}}},
		{"comments ignored", ": OPENROUTER PROCESSING\n\n: keep-alive\ndata: x\n\n", []wantEvent{{"", "x", ""}}},
		{"multi-line data joined with LF", "data: a\ndata: b\ndata:c\n\n", []wantEvent{{"", "a\nb\nc", ""}}},
		{"only one leading space stripped", "data:  padded\n\n", []wantEvent{{"", " padded", ""}}},
		{"missing trailing newline", "data: last", []wantEvent{{"", "last", ""}}},
		{"missing final blank line", "data: last\n", []wantEvent{{"", "last", ""}}},
		{"id and retry ignored", "id: 7\nretry: 10\ndata: x\n\n", []wantEvent{{"", "x", ""}}},
		{"event without data is dropped", "event: ping\n\ndata: x\n\n", []wantEvent{{"", "x", ""}}},
		{"empty data line dispatches empty data", "data:\n\n", []wantEvent{{"", "", ""}}},
		{"bare JSON error line kept as raw", "data: a\n\n{\"error\":{\"code\":500}}\n", []wantEvent{{"", "a", ""}, {"", "", `{"error":{"code":500}}`}}},
		{"done marker is plain data", "data: [DONE]\n\n", []wantEvent{{"", "[DONE]", ""}}},
		{"blank lines only", "\n\n\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, src := range []io.Reader{strings.NewReader(tc.input), iotest.OneByteReader(strings.NewReader(tc.input))} {
				got, err := readAll(t, src, 0)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want io.EOF", err)
				}
				if !equalEvents(got, tc.want) {
					t.Fatalf("events = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestReaderLimits(t *testing.T) {
	tests := []struct {
		name  string
		input string
		max   int
	}{
		{"one long line", "data: " + strings.Repeat("x", 100) + "\n\n", 64},
		{"long line without newline", strings.Repeat("y", 200), 64},
		{"many data lines in one event", strings.Repeat("data: 0123456789\n", 10) + "\n", 64},
		{"long raw garbage", strings.Repeat("{", 100) + "\n", 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, strings.NewReader(tc.input), tc.max)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "64 bytes") {
				t.Fatalf("error %q does not state the limit", err)
			}
		})
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	boom := errors.New("connection reset")
	rd := NewReader(io.MultiReader(strings.NewReader("data: a\n\n"), iotest.ErrReader(boom)), 0)
	if ev, err := rd.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event = %q, %v", ev.Data, err)
	}
	for range 2 {
		if _, err := rd.Next(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	}
}

// A stream closed with bytes still buffered hands its buffer to the next
// stream without them.
func TestReaderCloseRecyclesNoStaleBytes(t *testing.T) {
	for range 50 {
		first := NewReader(strings.NewReader("data: a\n\ndata: left over from the first stream\n\n"), 0)
		if ev, err := first.Next(); err != nil || string(ev.Data) != "a" {
			t.Fatalf("first stream: %q, %v", ev.Data, err)
		}
		first.Close()
		if _, err := first.Next(); err == nil {
			t.Fatal("Next after Close returned an event")
		}
		got, err := readAll(t, strings.NewReader("data: b\n\n"), 0)
		if !errors.Is(err, io.EOF) || !equalEvents(got, []wantEvent{{data: "b"}}) {
			t.Fatalf("second stream: %v, %v; want only event b", got, err)
		}
	}
}

func equalEvents(a, b []wantEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzReader checks that arbitrary input never panics, respects the size
// limit, and parses the same whatever the read chunking is (buffer-boundary
// bugs such as a CRLF split across two reads).
func FuzzReader(f *testing.F) {
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\"}\n\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		const max = 256
		whole, errWhole := readAll(t, strings.NewReader(string(input)), max)
		bytewise, errBytes := readAll(t, iotest.OneByteReader(strings.NewReader(string(input))), max)
		if !equalEvents(whole, bytewise) || errors.Is(errWhole, ErrTooLarge) != errors.Is(errBytes, ErrTooLarge) {
			t.Fatalf("chunking changed the result: %q (%v) vs %q (%v)", whole, errWhole, bytewise, errBytes)
		}
		for _, ev := range whole {
			if len(ev.data) > max || len(ev.raw) > max {
				t.Fatalf("event exceeds limit: %d/%d bytes", len(ev.data), len(ev.raw))
			}
		}
	})
}

func BenchmarkReaderEvent(b *testing.B) {
	event := "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello there\"}}\r\n\r\n"
	stream := strings.Repeat(event, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		rd := NewReader(strings.NewReader(stream), 0)
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
	}
}
