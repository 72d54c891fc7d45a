package natsx

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnConfig is how a service reaches NATS.
type ConnConfig struct {
	URL string
	// Name shows up in the server's connection list (nats server report).
	Name string
	// CredsFile is a NATS .creds file (JWT + nkey) for the split deployment.
	CredsFile string
	// User and Password are for static per-service users.
	User     string
	Password string
	// BindOnly makes runtime.ConnectNATS wait until the streams and KV
	// buckets exist instead of creating them: in the split deployment an
	// admin-run init (switchyard -target=init) creates the topology, so
	// service users need no stream or bucket create rights.
	BindOnly bool
}

// Connect dials NATS with options that suit a long-lived service: reconnect
// forever with jitter, buffer while disconnected, log state changes.
func Connect(c ConnConfig, log *slog.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.CustomInboxPrefix(InboxPrefix(c.Name)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(8 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil means we closed it
				log.Warn("nats disconnected", "conn", c.Name, "err", err)
			}
		}),
		// A refused publish or subscribe is otherwise silent: the request
		// just times out. Subjects carry no secrets.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Error("nats error", "conn", c.Name, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "conn", c.Name, "url", nc.ConnectedUrlRedacted())
		}),
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s as %q: %w", c.URL, c.Name, err)
	}
	return nc, nil
}

// InboxPrefix is the reply-subject prefix of a connection named name:
// "_INBOX_<name>", with every character that is not a letter, digit, '-'
// or '_' replaced by '_' so the prefix stays one subject token. Giving each
// connection its own prefix lets the NATS permissions allow a service user
// to subscribe only to its own replies (deploy/nats/gen-auth.sh): with the
// shared "_INBOX." any user could read the router's credential.resolve
// replies. Request/reply, JetStream and micro all use this prefix.
func InboxPrefix(name string) string {
	if name == "" {
		name = "anon"
	}
	token := []byte(name)
	for i, b := range token {
		if !isTokenByte(b) {
			token[i] = '_'
		}
	}
	return "_INBOX_" + string(token)
}

func isTokenByte(b byte) bool {
	return b == '-' || b == '_' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

// JetStream wraps a connection in the jetstream API.
func JetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream context: %w", err)
	}
	return js, nil
}
