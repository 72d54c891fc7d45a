// Command edgelb is the minimal load balancer that puts the compose stack's
// two router replicas behind the single published edge port. It exists only
// because docker compose has no built-in load balancing and no image can be
// pulled here (no nginx/haproxy image); in Kubernetes a Service does this job.
//
// Requests go to the backends in turn; a backend that refuses the TCP
// connection is skipped for that request (a killed replica), so only
// requests already inside a dying replica fail. Responses are flushed as
// they arrive so SSE streams pass through unbuffered.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "edge address")
	opsListen := flag.String("ops-listen", ":9100", "address for /healthz")
	backends := flag.String("backends", "router-1:8080,router-2:8080", "comma-separated host:port of the routers")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	pool, err := newPool(strings.Split(*backends, ","))
	if err != nil {
		log.Error("bad -backends", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, log, *listen, *opsListen, pool.proxy(log)); err != nil {
		log.Error("stopped", "err", err)
		os.Exit(1)
	}
}

// pool is the fixed backend list with a round-robin cursor.
type pool struct {
	addrs []string
	next  atomic.Uint64
}

func newPool(addrs []string) (*pool, error) {
	p := &pool{}
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("backend %q: %w", a, err)
		}
		p.addrs = append(p.addrs, a)
	}
	if len(p.addrs) == 0 {
		return nil, errors.New("no backends")
	}
	return p, nil
}

// pick returns the next backend in turn.
func (p *pool) pick() string {
	return p.addrs[(p.next.Add(1)-1)%uint64(len(p.addrs))]
}

// dialOrder lists every backend starting with first, so a refused
// connection falls over to the others.
func (p *pool) dialOrder(first string) []string {
	order := []string{first}
	for _, a := range p.addrs {
		if a != first {
			order = append(order, a)
		}
	}
	return order
}

// dial connects to addr or, if it refuses, to the next backend that
// accepts. Only connection setup fails over: once a request is written it
// is never replayed.
func (p *pool) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	var errs []error
	for _, a := range p.dialOrder(addr) {
		conn, err := d.DialContext(ctx, network, a)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (p *pool) proxy(log *slog.Logger) *httputil.ReverseProxy {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = p.dial
	tr.MaxIdleConnsPerHost = 64
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: p.pick()})
			r.SetXForwarded()
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serve runs the edge and ops listeners until ctx ends, then drains.
func serve(ctx context.Context, log *slog.Logger, listen, opsListen string, h http.Handler) error {
	edge := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 1 << 20}
	ops := &http.Server{Addr: opsListen, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	}), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 2)
	for _, s := range []*http.Server{edge, ops} {
		go func() { errc <- s.ListenAndServe() }()
	}
	log.Info("edge load balancer listening", "listen", listen, "ops", opsListen)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = ops.Shutdown(sctx)
	return edge.Shutdown(sctx)
}
