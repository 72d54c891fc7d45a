// Command bareproxy is the benchmark's baseline: a plain
// net/http/httputil.ReverseProxy per listener, doing only what any
// gateway must (set the upstream's auth header, stream SSE as it comes),
// with no routing, parsing or translation. Switchyard's target is to
// serve at least as many requests per second as this.
//
//	bareproxy -key sk-fake -route 127.0.0.1:18101=openai@http://127.0.0.1:18001
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		slog.Error("bareproxy", "err", err)
		os.Exit(1)
	}
}

// route is one listener and the upstream it forwards to.
type route struct {
	listen   string
	protocol string // openai | anthropic: which auth header to set
	upstream *url.URL
}

// routeList is a repeatable -route flag: listen=protocol@upstream.
type routeList []route

func (l *routeList) String() string { return fmt.Sprint(len(*l), " routes") }

func (l *routeList) Set(v string) error {
	listen, rest, ok1 := strings.Cut(v, "=")
	proto, upstream, ok2 := strings.Cut(rest, "@")
	if !ok1 || !ok2 || (proto != "openai" && proto != "anthropic") {
		return fmt.Errorf("route %q: want listen=openai|anthropic@http://upstream", v)
	}
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return fmt.Errorf("route %q: bad upstream URL", v)
	}
	*l = append(*l, route{listen: listen, protocol: proto, upstream: u})
	return nil
}

func run(args []string) error {
	var routes routeList
	fs := flag.NewFlagSet("bareproxy", flag.ContinueOnError)
	fs.Var(&routes, "route", "listen=openai|anthropic@upstream-URL (repeatable)")
	key := fs.String("key", "", "upstream API key to set on every request")
	idle := fs.Int("max-idle-per-host", 256, "idle upstream connections kept per host (Go's default is 2)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(routes) == 0 {
		return errors.New("at least one -route is required")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = *idle, *idle
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(routes))
	for _, rt := range routes {
		srv := &http.Server{Handler: bufferBody(newProxy(rt, *key, tr)), ReadHeaderTimeout: 10 * time.Second}
		ln, err := net.Listen("tcp", rt.listen)
		if err != nil {
			return err
		}
		slog.Info("bareproxy listening", "addr", ln.Addr().String(), "upstream", rt.upstream.String())
		wg.Go(func() { errs <- srv.Serve(ln) })
		context.AfterFunc(ctx, func() { _ = srv.Close() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

// newProxy forwards to rt.upstream, replacing the client's credentials
// with the upstream key as Switchyard does.
func newProxy(rt route, key string, tr http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(rt.upstream)
			pr.Out.Header.Del("Authorization")
			if rt.protocol == "anthropic" {
				pr.Out.Header.Set("X-Api-Key", key)
				pr.Out.Header.Set("Anthropic-Version", "2023-06-01")
				return
			}
			pr.Out.Header.Set("Authorization", "Bearer "+key)
		},
	}
}

// bufferBody reads the whole request body before proxying. Without it, an
// upstream that starts a streamed answer before the proxy's transport has
// finished its end-of-body check gets its connection torn down: the
// HTTP/1 server closes the inbound body when the response headers go out,
// the transport's last read fails, and the client sees a truncated stream
// (golang/go#40747; about 1% of 200-chunk streams here). Switchyard reads
// the body first too, so the baseline stays comparable.
func bufferBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "request body unreadable", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
