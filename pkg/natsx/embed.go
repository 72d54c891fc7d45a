// Package natsx holds the NATS plumbing every Switchyard process shares: the
// embedded JetStream server of the all-in-one binary, the client connection
// options (reconnect forever, named connections), and helpers that start a
// real in-process server for tests. It contains no business logic.
package natsx

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures the in-process nats-server of the all-in-one
// binary.
type EmbeddedConfig struct {
	// Host and Port the server listens on for clients such as syctl and
	// the nats CLI. Port -1 picks a free port.
	Host string
	Port int
	// StoreDir is the JetStream file store directory.
	StoreDir string
	// ServerName identifies the server in JetStream metadata.
	ServerName string
	// MaxFileStore caps JetStream disk use; 0 lets the server decide.
	MaxFileStore int64
	// SyncAlways makes JetStream fsync every write (sync_interval: always),
	// the setting TEST-PLAN decision 1 asks for on the metering stream.
	SyncAlways bool
}

// StartEmbedded starts a JetStream-enabled nats-server in this process and
// waits until it accepts clients.
func StartEmbedded(c EmbeddedConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName:            c.ServerName,
		Host:                  c.Host,
		Port:                  c.Port,
		JetStream:             true,
		StoreDir:              c.StoreDir,
		JetStreamMaxStore:     c.MaxFileStore,
		NoSigs:                true,
		MaxPayload:            8 << 20,
		DisableShortFirstPing: true,
	}
	if c.SyncAlways {
		opts.SyncAlways = true
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded nats-server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats-server did not become ready within 10s; check that " +
			fmt.Sprintf("%s:%d is free and %s is writable", c.Host, c.Port, c.StoreDir))
	}
	return ns, nil
}
