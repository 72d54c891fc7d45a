// Package loadgen is a small HTTP load generator for Switchyard's
// benchmark harness: a closed-loop mode (N connections, each sending its
// next request as soon as the previous answer is fully read: maximum
// throughput) and an open-loop mode (requests start on a fixed schedule
// whether or not earlier ones finished, and latency is measured from the
// scheduled start, so a stalled server cannot hide its queueing delay —
// the "coordinated omission" correction). Latencies go into log-linear
// histograms with constant relative precision.
//
// A request counts as successful when the status is 200, the body is read
// to its end, and the body's tail contains Request.ExpectTail (for a
// stream: its terminator), so a gateway that cuts streams short cannot
// look fast.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Request is the request every iteration sends.
type Request struct {
	URL    string
	Body   []byte
	Header http.Header
	// ExpectTail must occur in the last tailBytes of a successful answer
	// ("" accepts any 200).
	ExpectTail string
	// ChunkStamps: the answer carries T<Unix ns> stamps written by the
	// upstream (fakeupstream -stamp-chunks); each one's arrival minus its
	// stamp goes into Result.ChunkLatency.
	ChunkStamps bool
}

// tailBytes is how much of each answer's end is kept for ExpectTail.
const tailBytes = 256

// Result is what one run measured.
type Result struct {
	OK, Failed int64
	Elapsed    time.Duration
	Latency    *Histogram
	// ChunkLatency is, with Request.ChunkStamps, the time from the upstream
	// writing each stamped chunk to the client reading it.
	ChunkLatency *Histogram
	// FirstError describes the first failure, for the report.
	FirstError string
}

// Throughput is successful requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// merge folds o into r (elapsed times add: runs are sequential).
func (r *Result) merge(o Result) {
	r.OK += o.OK
	r.Failed += o.Failed
	r.Elapsed += o.Elapsed
	if r.Latency == nil {
		r.Latency = NewHistogram()
	}
	if o.Latency != nil {
		r.Latency.Merge(o.Latency)
	}
	if o.ChunkLatency != nil {
		if r.ChunkLatency == nil {
			r.ChunkLatency = NewHistogram()
		}
		r.ChunkLatency.Merge(o.ChunkLatency)
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// NewClient returns a keep-alive client able to hold conns connections to
// one host without ever closing an idle one (so no TIME_WAIT churn on the
// generator's side distorts the comparison).
func NewClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// tailWriter discards what it is given but keeps the last tailBytes.
type tailWriter struct {
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= tailBytes {
		t.buf = append(t.buf[:0], p[len(p)-tailBytes:]...)
		return len(p), nil
	}
	if keep := tailBytes - len(p); len(t.buf) > keep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// do sends one request and reads the whole answer into tail; nil means
// the answer is a success. With r.ChunkStamps, chunk latencies go into
// chunks.
func do(ctx context.Context, c *http.Client, r Request, tail *tailWriter, chunks *Histogram) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	tail.buf = tail.buf[:0]
	var dst io.Writer = tail
	if r.ChunkStamps && chunks != nil {
		dst = &stampReader{next: tail, hist: chunks}
	}
	if _, err := io.Copy(dst, resp.Body); err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, tail.buf)
	}
	if r.ExpectTail != "" && !bytes.Contains(tail.buf, []byte(r.ExpectTail)) {
		return fmt.Errorf("answer does not end with %q: ...%.120s", r.ExpectTail, tail.buf)
	}
	return nil
}
