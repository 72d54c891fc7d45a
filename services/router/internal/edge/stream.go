package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/sse"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// flushAfterBytes bounds how much translated output waits for the rest of
// an upstream read: a read can bring up to 16 KiB of events, and the first
// of them should not wait for the translation of all the others (per-chunk
// latency, issue 8). 4 KiB is about what net/http's own buffers send in
// one write(2) anyway.
const flushAfterBytes = 4 << 10

// relayStream translates an upstream event stream into OpenAI chunks. The
// chunks of events that arrived in one upstream read leave together, in
// writes of up to flushAfterBytes: output is flushed whenever the next
// event is not already complete in the reader's buffer, so no chunk waits
// for a later upstream read, or when that much is queued. Once
// the first byte has gone to the client an error can only end the stream
// with an error event, never a clean close.
func (s *Server) relayStream(w http.ResponseWriter, lim *limits, c *call, ex *exchange, resp *http.Response) {
	sse.SetHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	out := sse.NewWriter(w, sse.WithWriteTimeout(s.cfg.WriteTimeout))
	st := ex.newStream()
	emit := func(chunk []byte) error {
		if c.ttft == 0 {
			c.ttft = time.Since(c.start)
		}
		if err := out.QueueData(chunk); err != nil {
			lim.cancel(errClientGone) // a failed write or write deadline: the client is gone or stalled
			return errClientGone
		}
		return nil
	}
	lim.await(s.cfg.StreamIdleTimeout, errIdleTimeout)
	defer lim.done()
	in := sse.NewReader(resp.Body, s.cfg.MaxEventBytes)
	defer in.Close()
	var err error
	for {
		var ev sse.Event
		ev, err = in.Next()
		if err != nil {
			break
		}
		lim.touch()
		if err = st.Event(ev, emit); err != nil {
			break
		}
		if out.Queued() >= flushAfterBytes || !in.EventBuffered() {
			if err = out.Flush(); err != nil {
				lim.cancel(errClientGone)
				err = errClientGone
				break
			}
		}
	}
	s.finishStream(lim.ctx, c, st, out, emit, err)
}

// finishStream ends the stream: [DONE] after a clean upstream EOF, an error
// event otherwise; usage is the best count seen either way.
func (s *Server) finishStream(ctx context.Context, c *call, st translate.Stream, out *sse.Writer,
	emit func([]byte) error, readErr error) {
	clean := errors.Is(readErr, io.EOF)
	if !clean && clientLeft(ctx) {
		u, _ := st.Finish(func([]byte) error { return nil })
		c.usage, c.outcome = u, outcomeCancelled
		return
	}
	u, finishErr := st.Finish(emit)
	c.usage = u
	if clean && finishErr == nil {
		c.outcome = outcomeComplete
		// Not flushed here: the handler returns at once (usage publishing
		// and limit settlement do not block), and net/http then writes the
		// last chunks, [DONE] and the end of the body in one write(2).
		_ = out.QueueDone()
		return
	}
	c.outcome = outcomePartial
	// The first failure is the one to report: an upstream error event
	// explains a stream better than the truncation it leaves behind.
	var streamErr error
	switch {
	case clean:
		streamErr = finishErr
	case isTranslateError(readErr):
		streamErr = readErr
	default:
		streamErr = s.streamFailure(ctx, c, readErr, finishErr)
	}
	_ = out.WriteData(errorJSON(streamErr))
}

// streamFailure names a transport failure mid-stream: a timeout the edge
// enforced, else the translator's verdict (a truncated stream), else an
// unreachable upstream.
func (s *Server) streamFailure(ctx context.Context, c *call, err, finishErr error) error {
	cause := context.Cause(ctx)
	s.log.Warn("upstream stream ended abnormally", "service", c.route.Name(), "request_id", c.id, "err", err, "cause", cause)
	switch {
	case errors.Is(cause, errIdleTimeout) || errors.Is(cause, errTotalTimeout):
		return upstreamTimeout(c.route.Name())
	case finishErr != nil:
		return finishErr
	}
	return upstreamUnreachable(c.route.Name())
}

func isTranslateError(err error) bool {
	var te *translate.Error
	return errors.As(err, &te)
}

// errorJSON renders err as the OpenAI error object a stream ends with.
func errorJSON(err error) []byte {
	var te *translate.Error
	if errors.As(err, &te) {
		return te.JSON()
	}
	rec := &bodyRecorder{header: http.Header{}}
	writeErr(rec, err)
	return rec.body
}

// bodyRecorder captures what writeErr would send.
type bodyRecorder struct {
	header http.Header
	body   []byte
}

func (b *bodyRecorder) Header() http.Header { return b.header }
func (b *bodyRecorder) WriteHeader(int)     {}
func (b *bodyRecorder) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}
