package syctl

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchyard/switchyard/pkg/contract"
)

// startRestrictedServer is a real nats-server whose only user, "router",
// may publish nothing syctl sends (as in deploy/nats/auth.conf).
func startRestrictedServer(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		Users: []*server.User{{
			Username: "router", Password: "pw",
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{"sy.evt.usage.>"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns.ClientURL()
}

func TestPermissionViolationIsReportedAsSuch(t *testing.T) {
	url := startRestrictedServer(t)
	start := time.Now()
	r := runSyctl(t, "", "--nats-url", url, "--nats-user", "router", "--nats-password", "pw",
		"--timeout", "20s", "services", "get", "x")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, "permissions violation", contract.SubjServicesGet, "admin user")
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v: the refusal should end the request, not the 20s timeout", took)
	}
}
