// Package natsperm checks deploy/nats/auth.conf, the split deployment's
// per-service NATS users (TEST-PLAN S5): it loads the generated file into
// a real in-process nats-server and proves every service user is refused
// outside its allowlist and allowed what its service does, that anonymous
// clients are refused, and that the file and pkg/contract name the same
// subjects, streams and buckets.
package natsperm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/natsx"
)

// authConf is the generated file under test.
const authConf = "../../deploy/nats/auth.conf"

// users are the NATS users auth.conf must define.
var serviceUsers = []string{"registry", "credential", "healthcheck", "router", "metering"}

func password(user string) string { return "pw-" + user }

// loadOptions parses auth.conf the way the servers do: included from a
// server config, passwords from the environment.
func loadOptions(t *testing.T) *server.Options {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(authConf)
	if err != nil {
		t.Fatalf("read %s (run deploy/nats/gen-auth.sh): %v", authConf, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth.conf"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("listen: 127.0.0.1:-1\nserver_name: perm\njetstream { store_dir: %q }\ninclude ./auth.conf\n",
		filepath.Join(dir, "js"))
	path := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range append(serviceUsers, "admin") {
		t.Setenv("SY_NATS_PW_"+strings.ToUpper(u), password(u))
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("parse auth.conf: %v", err)
	}
	opts.NoLog, opts.NoSigs = true, true
	return opts
}

// startServer runs a nats-server with auth.conf's users.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	ns, err := server.NewServer(loadOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns
}

// client is one user's connection and the permission violations the
// server reported on it.
type client struct {
	nc         *nats.Conn
	violations chan error
}

// connectAs connects as user with the inbox prefix the service's
// connection uses (natsx.Connect names it after the service).
func connectAs(t *testing.T, ns *server.Server, user, connName string) *client {
	t.Helper()
	c := &client{violations: make(chan error, 64)}
	nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo(user, password(user)), nats.Name(connName),
		nats.CustomInboxPrefix(natsx.InboxPrefix(connName)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				c.violations <- err
			}
		}))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	c.nc = nc
	return c
}

// refused reports whether the server answered the last operation with a
// permissions violation. Flush is a round trip, so a violation for an
// earlier operation has arrived by the time it returns.
func (c *client) refused(t *testing.T) bool {
	t.Helper()
	if err := c.nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	select {
	case <-c.violations:
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}

// forget drops violations reported for earlier operations.
func (c *client) forget() {
	for {
		select {
		case <-c.violations:
		default:
			return
		}
	}
}

func (c *client) publishRefused(t *testing.T, subject string) bool {
	t.Helper()
	c.forget()
	if err := c.nc.Publish(subject, []byte("{}")); err != nil {
		t.Fatalf("publish %s: %v", subject, err)
	}
	return c.refused(t)
}

func (c *client) subscribeRefused(t *testing.T, subject string) bool {
	t.Helper()
	c.forget()
	sub, err := c.nc.SubscribeSync(subject)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	return c.refused(t)
}
