package sse

import (
	"bytes"
	"errors"
	"net/http"
	"time"
)

// Writer writes OpenAI-style server-sent events to an edge client. WriteData
// flushes each event as soon as it is written; QueueData leaves it in the
// response buffer until Flush, so a relay can send the events of one
// upstream read in one write(2) (issue 8: one syscall per event was a
// quarter of a stream's CPU).
type Writer struct {
	w            http.ResponseWriter
	rc           *http.ResponseController
	writeTimeout time.Duration
	now          func() time.Time
	buf          []byte
	queued       int       // bytes written since the last flush; 0: nothing to flush
	deadlineSet  time.Time // when the write deadline was last moved
}

// maxDeadlineRefresh bounds how stale the write deadline may get: it is
// moved at most every min(writeTimeout/4, 1s), not before every write, so
// a client that stops reading is cut off between 3/4 of the write timeout
// and the whole of it after its last successful write.
const maxDeadlineRefresh = time.Second

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithWriteTimeout keeps a write deadline of about now+d (see
// maxDeadlineRefresh), so a client that stops reading is cut off without a
// global server WriteTimeout (which would kill long streams). Zero
// disables it.
func WithWriteTimeout(d time.Duration) WriterOption {
	return func(w *Writer) { w.writeTimeout = d }
}

// WithClock replaces time.Now for deadline computation (tests).
func WithClock(now func() time.Time) WriterOption {
	return func(w *Writer) { w.now = now }
}

// NewWriter wraps w. Call SetHeaders (or set them yourself) before the first
// write.
func NewWriter(w http.ResponseWriter, opts ...WriterOption) *Writer {
	sw := &Writer{w: w, rc: http.NewResponseController(w), now: time.Now}
	for _, opt := range opts {
		opt(sw)
	}
	return sw
}

// SetHeaders sets the event-stream response headers: no caching, no proxy
// buffering, and no Content-Length so the response is streamed.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
}

// WriteData writes one `data:` event carrying payload and flushes it. A
// payload containing line breaks is split over several `data:` lines so the
// framing stays intact.
func (w *Writer) WriteData(payload []byte) error {
	w.buf = appendDataEvent(w.buf[:0], payload)
	return w.send(w.buf)
}

// QueueDone queues the OpenAI stream terminator `data: [DONE]` like
// QueueData: a handler that returns right after it lets net/http send it
// together with the end of the chunked body, in one write(2) instead of
// two.
func (w *Writer) QueueDone() error { return w.queue(doneFrame) }

var doneFrame = []byte("data: [DONE]\n\n")

// WriteComment writes an SSE comment, used as a keep-alive during upstream
// silences; OpenAI SDK decoders ignore it.
func (w *Writer) WriteComment(text string) error {
	w.buf = append(w.buf[:0], ": "...)
	w.buf = append(w.buf, stripLineBreaks(text)...)
	w.buf = append(w.buf, "\n\n"...)
	return w.send(w.buf)
}

// QueueData writes one `data:` event like WriteData but leaves it in the
// response buffer (which still writes through when full) until Flush.
func (w *Writer) QueueData(payload []byte) error {
	w.buf = appendDataEvent(w.buf[:0], payload)
	return w.queue(w.buf)
}

// Queued is how many bytes wait for the next Flush.
func (w *Writer) Queued() int { return w.queued }

// Flush sends what QueueData left in the buffer.
func (w *Writer) Flush() error {
	if w.queued == 0 {
		return nil
	}
	w.queued = 0
	if err := w.setDeadline(); err != nil {
		return err
	}
	if err := w.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (w *Writer) send(frame []byte) error {
	if err := w.queue(frame); err != nil {
		return err
	}
	return w.Flush()
}

// queue writes frame into the response buffer, to go out at the next Flush.
func (w *Writer) queue(frame []byte) error {
	if err := w.write(frame); err != nil {
		return err
	}
	w.queued += len(frame)
	return nil
}

func (w *Writer) write(frame []byte) error {
	if err := w.setDeadline(); err != nil {
		return err
	}
	_, err := w.w.Write(frame)
	return err
}

func (w *Writer) setDeadline() error {
	if w.writeTimeout <= 0 {
		return nil
	}
	now := w.now()
	if !w.deadlineSet.IsZero() && now.Sub(w.deadlineSet) < min(w.writeTimeout/4, maxDeadlineRefresh) {
		return nil
	}
	w.deadlineSet = now
	err := w.rc.SetWriteDeadline(now.Add(w.writeTimeout))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

func appendDataEvent(dst, payload []byte) []byte {
	for {
		i := indexLineEnd(payload) // two IndexByte scans: IndexAny goes byte by byte
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, payload...)
			return append(dst, "\n\n"...)
		}
		dst = append(dst, payload[:i]...)
		dst = append(dst, '\n')
		if payload[i] == '\r' && i+1 < len(payload) && payload[i+1] == '\n' {
			i++
		}
		payload = payload[i+1:]
	}
}

func stripLineBreaks(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, []byte(s)))
}
