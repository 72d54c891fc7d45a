// Command probe is the container health check for Switchyard's scratch
// images, which have no shell, curl or redis-cli. It checks one target and
// exits 0 when healthy, 1 otherwise:
//
//	probe http://127.0.0.1:9101/readyz   # any 2xx answer is healthy
//	probe redis://127.0.0.1:6379         # PING must answer +PONG
//	probe -print http://127.0.0.1:8222/varz
//
// -print writes the HTTP body to stdout, so the smoke test can read NATS
// monitoring endpoints from inside the compose network.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	timeout := flag.Duration("timeout", 3*time.Second, "give up after this long")
	print := flag.Bool("print", false, "write the HTTP response body to stdout")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: probe [-timeout 3s] [-print] http://host:port/path | redis://host:port")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var out io.Writer = io.Discard
	if *print {
		out = os.Stdout
	}
	if err := check(ctx, flag.Arg(0), out); err != nil {
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
}

var errUnhealthy = errors.New("unhealthy answer")

// check dispatches on the target's scheme.
func check(ctx context.Context, target string, body io.Writer) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	switch u.Scheme {
	case "http", "https":
		return checkHTTP(ctx, target, body)
	case "redis":
		return checkRedis(ctx, u.Host)
	default:
		return fmt.Errorf("target %q: scheme must be http, https or redis", target)
	}
}

// checkHTTP wants a 2xx status; the body is copied to body either way so a
// failing /readyz explains itself in `docker inspect`.
func checkHTTP(ctx context.Context, target string, body io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%w: %s: %s", errUnhealthy, resp.Status, strings.TrimSpace(string(msg)))
	}
	_, err = io.Copy(body, resp.Body)
	return err
}

// checkRedis sends an inline PING; a loading or misconfigured server
// answers with an error line instead of +PONG.
func checkRedis(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("%w: redis said %q", errUnhealthy, strings.TrimSpace(line))
	}
	return nil
}
