package sse

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEventBuffered: after Next, EventBuffered says whether the next event
// is already complete in the buffer (then a relay may hold its output).
func TestEventBuffered(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{"nothing after", "data: a\n\n", false},
		{"a whole event after", "data: a\n\ndata: b\n\n", true},
		{"half an event after", "data: a\n\ndata: b", false},
		{"an unterminated event after", "data: a\n\ndata: b\n", false},
		{"CRLF event after", "data: a\r\n\r\ndata: b\r\n\r\n", true},
		{"bare CR event after", "data: a\r\rdata: b\r\r", true},
		{"only a comment after", "data: a\n\n: keep-alive\n\n", false},
		{"comment, then an event", "data: a\n\n: keep-alive\n\ndata: b\n\n", true},
		{"named event after", "data: a\n\nevent: x\ndata: b\n\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), 0)
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			if got := r.EventBuffered(); got != tt.want {
				t.Fatalf("EventBuffered() = %v, want %v", got, tt.want)
			}
		})
	}
}

// flushCounter is a ResponseWriter that counts flushes.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushCounter) Flush() { f.flushes++ }

// TestQueuedEventsWaitForFlush: queued events are flushed once, together,
// by Flush; a Flush with nothing queued does nothing; WriteData flushes.
func TestQueuedEventsWaitForFlush(t *testing.T) {
	w := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
	sw := NewWriter(w)
	steps := []struct {
		do          func() error
		wantFlushes int
	}{
		{func() error { return sw.QueueData([]byte("one")) }, 0},
		{func() error { return sw.QueueData([]byte("two")) }, 0},
		{sw.Flush, 1},
		{sw.Flush, 1},
		{func() error { return sw.WriteData([]byte("three")) }, 2},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if w.flushes != st.wantFlushes {
			t.Fatalf("step %d: %d flushes, want %d", i, w.flushes, st.wantFlushes)
		}
	}
	if got, want := w.Body.String(), "data: one\n\ndata: two\n\ndata: three\n\n"; got != want {
		t.Fatalf("body %q, want %q", got, want)
	}
}
