package sse

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWriterFlushesEachEvent(t *testing.T) {
	received := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetHeaders(w.Header())
		sw := NewWriter(w, WithWriteTimeout(5*time.Second))
		if err := sw.WriteData([]byte(`{"n":1}`)); err != nil {
			t.Errorf("first write: %v", err)
			return
		}
		// The client must see the first event before the second exists:
		// this blocks forever if the writer buffered it.
		select {
		case <-received:
		case <-time.After(5 * time.Second):
			t.Error("client never received the first event: not flushed")
			return
		}
		_ = sw.WriteComment("keep-alive\nsplit")
		_ = sw.WriteData([]byte("line1\nline2\r\nline3"))
		_ = sw.QueueDone() // sent when the handler returns
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	first, _ := br.ReadString('\n')
	blank, _ := br.ReadString('\n')
	if first != "data: {\"n\":1}\n" || blank != "\n" {
		t.Fatalf("first event = %q %q", first, blank)
	}
	close(received)
	var rest strings.Builder
	if _, err := br.WriteTo(&rest); err != nil {
		t.Fatal(err)
	}
	want := ": keep-alive split\n\ndata: line1\ndata: line2\ndata: line3\n\ndata: [DONE]\n\n"
	if rest.String() != want {
		t.Fatalf("rest = %q, want %q", rest.String(), want)
	}
}

func TestWriterDeadlineCutsOffStalledClient(t *testing.T) {
	result := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		long := time.Unix(0, 0)
		sw := NewWriter(w, WithWriteTimeout(time.Second), WithClock(func() time.Time { return long }))
		result <- sw.WriteData([]byte("x"))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if err := <-result; err == nil {
		t.Fatal("write with an expired deadline succeeded")
	}
}

// QueueDone leaves the terminator for net/http to send with the end of
// the body: nothing is flushed until the handler returns or Flush runs.
func TestQueueDoneWaitsForTheEndOfTheHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := NewWriter(rec)
	if err := sw.QueueData([]byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := sw.QueueDone(); err != nil {
		t.Fatal(err)
	}
	if rec.Flushed {
		t.Fatal("QueueDone flushed")
	}
	if err := sw.Flush(); err != nil || !rec.Flushed {
		t.Fatalf("Flush: %v, flushed %v", err, rec.Flushed)
	}
	if got := rec.Body.String(); got != "data: {\"n\":1}\n\ndata: [DONE]\n\n" {
		t.Fatalf("body %q", got)
	}
}
