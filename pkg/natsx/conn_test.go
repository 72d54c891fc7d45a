package natsx

import (
	"github.com/nats-io/nats.go"

	"strings"
	"testing"
	"time"
)

func TestInboxPrefixIsOneToken(t *testing.T) {
	tests := []struct{ name, want string }{
		{"router", "_INBOX_router"},
		{"switchyard-router", "_INBOX_switchyard-router"},
		{"test client.v1>*", "_INBOX_test_client_v1__"},
		{"", "_INBOX_anon"},
	}
	for _, tt := range tests {
		got := InboxPrefix(tt.name)
		if got != tt.want {
			t.Errorf("InboxPrefix(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if strings.ContainsAny(got, ".*> \t") {
			t.Errorf("InboxPrefix(%q) = %q is not a single subject token", tt.name, got)
		}
	}
}

// Replies, and so JetStream and micro, travel under the connection's own
// prefix, which is what the per-service NATS permissions allow.
func TestRequestsReplyOnTheConnectionsOwnInbox(t *testing.T) {
	ns := StartTestServer(t)
	server := TestConn(t, ns, "responder")
	client := TestConn(t, ns, "switchyard-router")
	seen := make(chan string, 1)
	sub, err := server.Subscribe("echo", func(m *nats.Msg) {
		seen <- m.Reply
		_ = m.Respond(m.Data)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := server.Flush(); err != nil { // the server must have the subscription before the request
		t.Fatal(err)
	}
	if _, err := client.Request("echo", []byte("hi"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if reply := <-seen; !strings.HasPrefix(reply, "_INBOX_switchyard-router.") {
		t.Fatalf("reply subject %q, want the _INBOX_switchyard-router. prefix", reply)
	}
}
