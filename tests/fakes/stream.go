package fakes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// streamer writes one SSE response and applies the stream knobs (chunk
// delay, stall, drop, mid-stream error) before each content delta.
type streamer struct {
	ex      *exchange
	rc      *http.ResponseController
	eol     string // "\n", or "\r\n" for Gemini
	content int    // content deltas written
	stopped bool   // the stream ended early (cancelled, error event, closed)
}

// startStream writes the SSE headers and returns the streamer.
func (ex *exchange) startStream(crlf bool) *streamer {
	s := &streamer{ex: ex, rc: http.NewResponseController(ex.w), eol: "\n"}
	if crlf {
		s.eol = "\r\n"
	}
	h := ex.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	ex.w.WriteHeader(http.StatusOK)
	s.flush()
	return s
}

// event writes one SSE event: an optional `event:` line and a JSON `data:`
// line. It reports whether the stream is still alive.
func (s *streamer) event(name string, payload any) bool {
	data, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("fakes: marshal event: %v", err))
	}
	return s.dataLine(name, string(data))
}

// dataLine writes `data: text` as one event.
func (s *streamer) dataLine(name, text string) bool {
	frame := "data: " + text + s.eol + s.eol
	if name != "" {
		frame = "event: " + name + s.eol + frame
	}
	return s.raw(frame)
}

// raw writes bytes and flushes them at once.
func (s *streamer) raw(frame string) bool {
	if s.stopped {
		return false
	}
	b := []byte(frame)
	if s.ex.cfg.StampChunks {
		stamp(b, time.Now())
	}
	if _, err := s.ex.w.Write(b); err != nil {
		s.cancelled()
		return false
	}
	return s.flush()
}

func (s *streamer) flush() bool {
	if err := s.rc.Flush(); err != nil {
		s.cancelled()
		return false
	}
	return true
}

func (s *streamer) cancelled() {
	s.stopped = true
	s.ex.finish(OutcomeCancelled)
}

// beforeContent runs the knobs due before the next content delta and
// reports whether to write it. Dropping never returns: it aborts the
// connection so the client sees a truncated body.
func (s *streamer) beforeContent() bool {
	if s.stopped {
		return false
	}
	cfg := s.ex.cfg
	if s.content > 0 && !s.ex.sleep(cfg.ChunkDelay) {
		s.stopped = true
		return false
	}
	switch n := s.content; {
	case cfg.DropAfter > 0 && n == cfg.DropAfter:
		s.ex.finish(OutcomeDropped)
		panic(http.ErrAbortHandler)
	case cfg.ErrorAfter > 0 && n == cfg.ErrorAfter:
		s.ex.f.dialect.streamError(s, cfg.StreamError)
		s.ex.finish(OutcomeStreamErr)
		s.stopped = true
		return false
	case cfg.StallAfter > 0 && n == cfg.StallAfter:
		return s.stall()
	}
	return true
}

// stall keeps the connection silent until the client leaves, the fake
// closes, or StallFor elapses (then the stream resumes).
func (s *streamer) stall() bool {
	s.ex.f.mu.Lock()
	s.ex.f.stats.Stalls++
	s.ex.f.mu.Unlock()
	var resume <-chan time.Time
	if s.ex.cfg.StallFor > 0 {
		timer := time.NewTimer(s.ex.cfg.StallFor)
		defer timer.Stop()
		resume = timer.C
	}
	select {
	case <-resume:
		return true
	case <-s.ex.r.Context().Done():
	case <-s.ex.f.done:
	}
	s.cancelled()
	return false
}

// content writes one content delta event after the knobs allow it.
func (s *streamer) contentEvent(name string, payload any) bool {
	if !s.beforeContent() || !s.event(name, payload) {
		return false
	}
	s.content++
	s.ex.f.mu.Lock()
	s.ex.entry.ContentChunks = s.content
	s.ex.f.mu.Unlock()
	return true
}

// done marks a stream delivered in full with its usage.
func (s *streamer) done() {
	if !s.stopped {
		s.ex.completed(s.ex.cfg.Usage)
	}
}

// stampPlaceholder is what StampChunks chunks carry until written: T and
// 19 zeros, as long as a current Unix time in nanoseconds.
const stampPlaceholder = "T0000000000000000000"

func stampedChunks(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = stampPlaceholder + " "
	}
	return out
}

// stamp overwrites every placeholder in frame with now.
func stamp(frame []byte, now time.Time) {
	digits := strconv.AppendInt(make([]byte, 0, 20), now.UnixNano(), 10)
	for rest := frame; ; {
		i := bytes.Index(rest, []byte(stampPlaceholder))
		if i < 0 || len(digits) != len(stampPlaceholder)-1 {
			return
		}
		copy(rest[i+1:], digits)
		rest = rest[i+len(stampPlaceholder):]
	}
}
