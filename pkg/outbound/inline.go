package outbound

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// inlineTransport is an HTTP/1.1 client for plain-TCP upstreams that does
// each exchange on the calling goroutine: it writes the request with
// Request.Write and reads the answer with http.ReadResponse, net/http's own
// wire code, so framing (Content-Length, chunked, close-delimited, 1xx) is
// exactly net/http's. What it leaves out is net/http's Transport machinery:
// a reader and a writer goroutine per connection, with the request and the
// response handed between them and the caller over channels. At a steady
// 1,000 requests/s those hand-offs (wake-ups, futex calls, scheduler passes)
// were a fifth of the router's CPU (BENCHMARKS.md, issue 8).
//
// Without a reader goroutine nobody notices an idle connection being
// closed by the upstream, so a connection is checked (alive) when it
// leaves the pool, and a request that found a connection dead before any
// byte of answer is retried once on a new one when net/http would retry it
// too (replayable).
type inlineTransport struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle     int // per host
	idleTimeout time.Duration

	mu    sync.Mutex
	idle  map[string][]*inlineConn // per host:port, most recently used last
	sweep *time.Timer              // armed while idle connections exist
}

func newInlineTransport(dial func(context.Context, string, string) (net.Conn, error), o Options) *inlineTransport {
	return &inlineTransport{dial: dial, maxIdle: o.MaxIdleConnsPerHost, idleTimeout: o.IdleConnTimeout,
		idle: map[string][]*inlineConn{}}
}

// Buffer sizes: the read side is larger than net/http's 4 KiB so a burst
// of stream events already queued on the socket comes in one read(2).
const (
	inlineReadBuffer  = 16 << 10
	inlineWriteBuffer = 4 << 10
)

// RoundTrip sends req and returns the answer; its Body must be read to EOF
// or closed, which returns the connection to the pool (or closes it).
func (t *inlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("outbound: request without a host")
	}
	addr := hostPort(req)
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(req.Context(), addr)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := c.exchange(req, reused)
		if err == nil {
			return resp, nil
		}
		c.close()
		if attempt > 0 || !reused || req.Context().Err() != nil || !replayable(req, err) {
			return nil, ctxErr(req.Context(), err)
		}
		if req, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

func hostPort(req *http.Request) string {
	if port := req.URL.Port(); port != "" {
		return req.URL.Host
	}
	return net.JoinHostPort(req.URL.Hostname(), "80")
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// get returns a live idle connection to addr, or dials a new one.
func (t *inlineTransport) get(ctx context.Context, addr string) (c *inlineConn, reused bool, err error) {
	for {
		c = t.popIdle(addr)
		if c == nil {
			break
		}
		if c.alive() {
			return c, true, nil
		}
		c.close()
	}
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	c = &inlineConn{t: t, addr: addr, nc: nc, bw: bufio.NewWriterSize(nc, inlineWriteBuffer)}
	c.limited = limitedConn{Conn: nc, remaining: math.MaxInt64}
	c.br = bufio.NewReaderSize(&c.limited, inlineReadBuffer)
	return c, false, nil
}

// limitedConn bounds what one answer's head may read from the socket, as
// net/http's Transport does (MaxResponseHeaderBytes): http.ReadResponse
// itself would read headers without end.
type limitedConn struct {
	net.Conn
	remaining int64
}

var errHeadTooLarge = fmt.Errorf("outbound: the upstream's answer headers exceed %d bytes", maxResponseHeaderBytes)

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.Conn.Read(p)
	l.remaining -= int64(n)
	return n, err
}

// inlineConn is one upstream connection, owned by one request at a time.
type inlineConn struct {
	t         *inlineTransport
	addr      string
	nc        net.Conn
	limited   limitedConn // what br reads through
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// exchange writes req and reads the answer's head. The request context
// can interrupt either side at any time: context.AfterFunc moves the
// connection's deadline into the past, which fails the blocked call
// without a goroutine per request.
func (c *inlineConn) exchange(req *http.Request, reused bool) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		return nil, err
	}
	stop := context.AfterFunc(ctx, c.interrupt)
	if err := req.Write(c.bw); err != nil {
		stop()
		return nil, errWrite{err}
	}
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, errWrite{err}
	}
	c.limited.remaining = maxResponseHeaderBytes
	resp, err := c.readHead(req, reused)
	c.limited.remaining = math.MaxInt64
	if err != nil {
		stop()
		return nil, err
	}
	body := &inlineBody{c: c, ctx: ctx, stop: stop, src: resp.Body,
		reusable: !resp.Close && !req.Close, length: resp.ContentLength}
	noBody := resp.Body == http.NoBody || resp.ContentLength == 0 || req.Method == http.MethodHead
	resp.Body = body
	if noBody {
		body.finish(nil) // nothing to read: the connection is free now
	}
	return resp, nil
}

// readHead reads the status line and headers, skipping 1xx informational
// answers.
func (c *inlineConn) readHead(req *http.Request, reused bool) (*http.Response, error) {
	if _, err := c.br.Peek(1); err != nil {
		if reused && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			return nil, errServerClosedIdle // not one byte of answer
		}
		return nil, fmt.Errorf("outbound: reading the answer: %w", err)
	}
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return nil, fmt.Errorf("outbound: reading the answer: %w", err)
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("outbound: the upstream switched protocols, which forwarding does not support")
		case resp.StatusCode >= 100 && resp.StatusCode < 200:
			continue
		}
		return resp, nil
	}
}

func (c *inlineConn) interrupt() { _ = c.nc.SetDeadline(aLongTimeAgo) }

func (c *inlineConn) close() { _ = c.nc.Close() }
