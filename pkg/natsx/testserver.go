package natsx

import (
	"log/slog"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// StartTestServer starts a real JetStream server on a free loopback port with
// its store in t.TempDir(), and shuts it down when the test ends. Tests use
// it instead of any NATS mock.
func StartTestServer(t testing.TB) *server.Server {
	t.Helper()
	ns, err := StartEmbedded(EmbeddedConfig{
		Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), ServerName: "test",
	})
	if err != nil {
		t.Fatalf("start test nats-server: %v", err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// TestConn connects to ns and closes the connection when the test ends.
func TestConn(t testing.TB, ns *server.Server, name string) *nats.Conn {
	t.Helper()
	nc, err := Connect(ConnConfig{URL: ns.ClientURL(), Name: name}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
