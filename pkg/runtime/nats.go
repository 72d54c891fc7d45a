package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// ConnectNATS opens a module's own NATS connection and makes sure the
// topology exists, retrying until NATS answers or ctx ends: services may
// start before NATS does. Each module calls it, so every target of the
// all-in-one binary has its own connection, exactly as in a split
// deployment. With c.BindOnly it creates nothing and waits until an
// admin-run init (switchyard -target=init) has created the topology.
func ConnectNATS(ctx context.Context, c natsx.ConnConfig, topo contract.Options, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := natsx.Connect(c, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := natsx.JetStream(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	prepare := func(ctx context.Context) error { return contract.EnsureTopology(ctx, js, topo) }
	waiting := "NATS topology not ready yet; retrying"
	if c.BindOnly {
		prepare = func(ctx context.Context) error { return TopologyExists(ctx, nc, js, topo) }
		waiting = "waiting for the NATS topology: -nats-ensure-topology=false, so an admin-run init " +
			"(switchyard -target=init) must create the streams and KV buckets"
	}
	if err := retryUntil(ctx, log, c.URL, waiting, prepare); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// retryUntil calls prepare until it succeeds or ctx ends, backing off up
// to 5s between attempts.
func retryUntil(ctx context.Context, log *slog.Logger, url, waiting string, prepare func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := prepare(tctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("NATS topology: %w", err)
		}
		log.Warn(waiting, "url", url, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt)*500*time.Millisecond, 5*time.Second)):
		}
	}
}

// CloseNATS drains nc so in-flight replies and publishes finish.
func CloseNATS(nc *nats.Conn) {
	if nc == nil {
		return
	}
	if err := nc.Drain(); err != nil {
		nc.Close()
	}
}

// Readiness is a module's ready state, safe for concurrent use.
type Readiness struct{ err atomic.Pointer[error] }

var errStarting = errors.New("starting")

// Ready returns nil once Set(nil) was called.
func (r *Readiness) Ready() error {
	p := r.err.Load()
	if p == nil {
		return errStarting
	}
	return *p
}

// Set records the current state; nil means ready.
func (r *Readiness) Set(err error) { r.err.Store(&err) }
