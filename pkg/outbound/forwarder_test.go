package outbound

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestForwarder(t *testing.T, policy string, o Options) http.RoundTripper {
	t.Helper()
	o.Logger = quietLogger
	f := NewForwarder(mustPolicy(t, policy), o)
	t.Cleanup(f.(*forwarder).CloseIdleConnections)
	return f
}

// post sends body to url through rt and returns the status and answer,
// read the way the edge reads it: exactly Content-Length bytes when known
// (no read that sees EOF), else to EOF.
func post(ctx context.Context, rt http.RoundTripper, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.ContentLength >= 0 {
		buf := make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, buf)
		return resp.StatusCode, string(buf), err
	}
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
}

func TestForwarderReusesOneConnectionForSequentialRequests(t *testing.T) {
	srv := newCountingServer(t, false, echoHandler)
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", srv.port())
	for i := range 50 {
		status, body, err := post(t.Context(), rt, url, fmt.Sprintf(`{"n":%d}`, i))
		want := fmt.Sprintf(`POST /v1/chat/completions {"n":%d}`, i)
		if err != nil || status != 200 || body != want {
			t.Fatalf("request %d = %d %q, %v; want 200 %q", i, status, body, err, want)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Fatalf("50 sequential requests used %d connections, want 1", n)
	}
}

func TestForwarderStreamsChunkedAnswersAndReusesTheConnection(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 5 {
			_, _ = fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	})
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/stream", srv.port())
	for range 3 {
		status, body, err := post(t.Context(), rt, url, "{}")
		if err != nil || status != 200 || body != "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n" {
			t.Fatalf("stream = %d %q, %v", status, body, err)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Fatalf("3 streamed answers read to EOF used %d connections, want 1", n)
	}
}

func TestForwarderReplacesConnectionsTheUpstreamClosedWhileIdle(t *testing.T) {
	srv := newCountingServer(t, false, echoHandler, func(s *http.Server) {
		s.IdleTimeout = 30 * time.Millisecond // like uvicorn's keep-alive timeout, only shorter
	})
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/x", srv.port())
	for i := range 3 {
		if status, _, err := post(t.Context(), rt, url, "{}"); err != nil || status != 200 {
			t.Fatalf("request %d after an idle close = %d, %v", i, status, err)
		}
		time.Sleep(150 * time.Millisecond) // the server closes the idle connection meanwhile
	}
	if n := srv.conns.Load(); n != 3 {
		t.Fatalf("connections = %d, want 3 (each closed by the server while idle)", n)
	}
}

func TestForwarderClosesTheConnectionAfterConnectionClose(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		echoHandler(w, r)
	})
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/x", srv.port())
	for range 3 {
		if status, _, err := post(t.Context(), rt, url, "{}"); err != nil || status != 200 {
			t.Fatalf("POST = %d, %v", status, err)
		}
	}
	if n := srv.conns.Load(); n != 3 {
		t.Fatalf("connections = %d, want 3 (the upstream asked to close each)", n)
	}
}

func TestForwarderCancelWhileWaitingForTheAnswer(t *testing.T) {
	release := make(chan struct{})
	gone := make(chan struct{})
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server watches for a close only once the body is read
		select {
		case <-r.Context().Done():
			close(gone)
		case <-release:
		}
	})
	defer close(release)
	rt := newTestForwarder(t, "loopback", Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := post(ctx, rt, fmt.Sprintf("http://127.0.0.1:%d/slow", srv.port()), "{}")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	select {
	case <-gone: // the connection was closed, so the upstream stopped too
	case <-time.After(2 * time.Second):
		t.Fatal("the upstream never saw the request end")
	}
}

func TestForwarderCancelMidStreamClosesTheConnection(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/s" {
			echoHandler(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	rt := newTestForwarder(t, "loopback", Options{})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/s", srv.port()), strings.NewReader("{}"))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = io.ReadAll(br)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel = %v, want context.Canceled", err)
	}
	_ = resp.Body.Close()
	// The interrupted connection must not serve the next request.
	if status, _, err := post(t.Context(), rt, fmt.Sprintf("http://127.0.0.1:%d/after", srv.port()), "{}"); err != nil || status != 200 {
		t.Fatalf("request after the cancelled stream = %d, %v", status, err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Fatalf("connections = %d, want 2 (the cancelled one was not reused)", n)
	}
}

func TestForwarderEarlyCloseDoesNotReuseTheConnection(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 64<<10))
	})
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/big", srv.port())
	for range 2 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = resp.Body.Read(make([]byte, 10))
		_ = resp.Body.Close() // most of the answer unread
	}
	if n := srv.conns.Load(); n != 2 {
		t.Fatalf("connections = %d, want 2 (a half-read answer leaves its connection unusable)", n)
	}
}

func TestForwarderSkipsInformationalAnswers(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		echoHandler(w, r)
	})
	rt := newTestForwarder(t, "loopback", Options{})
	status, body, err := post(t.Context(), rt, fmt.Sprintf("http://127.0.0.1:%d/hints", srv.port()), "b")
	if err != nil || status != 200 || body != "POST /hints b" {
		t.Fatalf("answer after 103 = %d %q, %v", status, body, err)
	}
}

func TestForwarderRefusesBlockedAddressesWithoutConnecting(t *testing.T) {
	srv := newCountingServer(t, false, echoHandler)
	rt := newTestForwarder(t, "private", Options{})
	_, _, err := post(t.Context(), rt, fmt.Sprintf("http://127.0.0.1:%d/x", srv.port()), "{}")
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("server accepted %d connections, want 0", n)
	}
}

func TestForwarderConcurrentRequests(t *testing.T) {
	srv := newCountingServer(t, false, echoHandler)
	rt := newTestForwarder(t, "loopback", Options{})
	url := fmt.Sprintf("http://127.0.0.1:%d/c", srv.port())
	var wg sync.WaitGroup
	errs := make(chan error, 32*20)
	for w := range 32 {
		wg.Go(func() {
			for i := range 20 {
				body := fmt.Sprintf("%d-%d", w, i)
				status, got, err := post(t.Context(), rt, url, body)
				if err != nil || status != 200 || got != "POST /c "+body {
					errs <- fmt.Errorf("%s: %d %q %v", body, status, got, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.conns.Load(); n > 32 {
		t.Fatalf("%d connections for 32 concurrent callers", n)
	}
}

func TestForwarderSendsHTTPSThroughNetHTTP(t *testing.T) {
	srv := newCountingServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%s over HTTP/%d", r.Method, r.ProtoMajor)
	})
	rt := newTestForwarder(t, "loopback", Options{InsecureSkipVerify: true})
	status, body, err := post(t.Context(), rt, fmt.Sprintf("https://127.0.0.1:%d/tls", srv.port()), "{}")
	if err != nil || status != 200 || body != "POST over HTTP/1" {
		t.Fatalf("HTTPS = %d %q, %v", status, body, err)
	}
}

// scriptedUpstream answers the first request on each connection and then
// reads the second request and closes without answering: an upstream that
// dropped a kept-alive connection just as it was reused.
func scriptedUpstream(t *testing.T) (addr string, conns func() int) {
	return rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if !readRequest(br) {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		readRequest(br)
	})
}

// rawUpstream is a TCP server speaking HTTP/1.1 by hand, for upstreams
// that misbehave in ways net/http's server never would: serve runs once
// per accepted connection, which it must not close itself. It returns the
// address and a count of accepted connections.
func rawUpstream(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (addr string, conns func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String(), func() int { return int(n.Load()) }
}

// readRequest reads one request and its body; false when the client left.
func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

func TestForwarderRetriesOnlyReplayableRequestsAfterAnIdleClose(t *testing.T) {
	addr, conns := scriptedUpstream(t)
	rt := newTestForwarder(t, "loopback", Options{})
	do := func(method string, header http.Header) (int, error) {
		req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+addr+"/r", strings.NewReader("{}"))
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.ReadAll(resp.Body)
		return resp.StatusCode, nil
	}
	if status, err := do(http.MethodPost, nil); err != nil || status != 200 {
		t.Fatalf("first POST = %d, %v", status, err)
	}
	// The reused connection is dropped after the upstream read the POST:
	// it may have acted on it, so it is not sent again.
	if _, err := do(http.MethodPost, nil); !errors.Is(err, errServerClosedIdle) {
		t.Fatalf("second POST = %v, want errServerClosedIdle", err)
	}
	if status, err := do(http.MethodPost, nil); err != nil || status != 200 {
		t.Fatalf("third POST (new connection) = %d, %v", status, err)
	}
	// With an idempotency key the same drop is retried on a new connection.
	if status, err := do(http.MethodPost, http.Header{"Idempotency-Key": {"k1"}}); err != nil || status != 200 {
		t.Fatalf("POST with Idempotency-Key = %d, %v; want a retried 200", status, err)
	}
	if status, err := do(http.MethodGet, nil); err != nil || status != 200 {
		t.Fatalf("GET = %d, %v", status, err)
	}
	if status, err := do(http.MethodGet, nil); err != nil || status != 200 {
		t.Fatalf("GET on a dropped connection = %d, %v; want a retried 200", status, err)
	}
	if n := conns(); n != 5 {
		t.Fatalf("connections = %d, want 5", n)
	}
}

func TestInlineTransportClosesExpiredIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := newCountingServer(t, false, echoHandler, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, state http.ConnState) {
			if state == http.StateClosed {
				closed <- struct{}{}
			}
		}
	})
	rt := newTestForwarder(t, "loopback", Options{IdleConnTimeout: 50 * time.Millisecond})
	if status, _, err := post(t.Context(), rt, fmt.Sprintf("http://127.0.0.1:%d/x", srv.port()), "{}"); err != nil || status != 200 {
		t.Fatalf("POST = %d, %v", status, err)
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("an idle connection outlived the idle timeout by 2s")
	}
	if n := rt.(*forwarder).plain.idleCount(); n != 0 {
		t.Fatalf("%d connections still idle", n)
	}
}

func TestForwarderReusesConnectionsAfterAnswersWithoutBody(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/204" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		echoHandler(w, r)
	})
	rt := newTestForwarder(t, "loopback", Options{})
	base := fmt.Sprintf("http://127.0.0.1:%d", srv.port())
	for _, path := range []string{"/204", "/204", "/x"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader("{}"))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // closed without a read
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, base+"/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if status, body, err := post(t.Context(), rt, base+"/y", "z"); err != nil || status != 200 || body != "POST /y z" {
		t.Fatalf("POST after bodiless answers = %d %q, %v", status, body, err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Fatalf("connections = %d, want 2 (bodiless answers free theirs; /x closed unread does not)", n)
	}
}

// TestForwarderSurvivesAnUpstreamThatClosesAfterEveryAnswer: an upstream
// that closes each connection right after answering, without saying so
// (no Connection: close), must not fail the next POST: the closed
// connection is noticed before reuse.
func TestForwarderSurvivesAnUpstreamThatClosesAfterEveryAnswer(t *testing.T) {
	addr, _ := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	rt := newTestForwarder(t, "loopback", Options{})
	for i := range 20 {
		status, body, err := post(t.Context(), rt, "http://"+addr+"/x", "{}")
		if err != nil || status != 200 || body != "ok" {
			t.Fatalf("POST %d = %d %q, %v", i, status, body, err)
		}
		time.Sleep(2 * time.Millisecond) // let the close arrive, as it would between real requests
	}
}

// TestForwarderBoundsAnswerHeaders: an upstream that sends headers without
// end gets an error once they pass maxResponseHeaderBytes, not a router
// that buffers them all.
func TestForwarderBoundsAnswerHeaders(t *testing.T) {
	addr, _ := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if !readRequest(br) {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for range 4 * maxResponseHeaderBytes / len(line) {
			if _, err := io.WriteString(c, line); err != nil {
				return // the client gave up, as it should
			}
		}
		_, _ = io.WriteString(c, "Content-Length: 2\r\n\r\nok")
	})
	rt := newTestForwarder(t, "loopback", Options{})
	_, _, err := post(t.Context(), rt, "http://"+addr+"/h", "{}")
	if !errors.Is(err, errHeadTooLarge) {
		t.Fatalf("endless headers: err = %v, want errHeadTooLarge", err)
	}
}

// TestForwarderNeverHandsOnUnsolicitedBytes: an upstream that writes more
// than the answer (here: a second, unrequested answer) must not have that
// surplus read as the next request's answer, even on a connection that
// would otherwise be reused without a peek.
func TestForwarderNeverHandsOnUnsolicitedBytes(t *testing.T) {
	addr, _ := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		for n := 0; readRequest(br); n++ {
			answer := "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"
			if n == 2 { // the third answer on a connection comes with a stowaway
				answer += "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
			}
			_, _ = io.WriteString(c, answer)
		}
	})
	rt := newTestForwarder(t, "loopback", Options{})
	for i := range 6 {
		status, body, err := post(t.Context(), rt, "http://"+addr+"/x", "{}")
		if err != nil || status != 200 || body != "good" {
			t.Fatalf("request %d = %d %q, %v; want 200 \"good\"", i, status, body, err)
		}
	}
}
