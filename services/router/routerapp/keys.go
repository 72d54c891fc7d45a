package routerapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/keysendpoint"
	"github.com/switchyard/switchyard/services/router/internal/keystransport"
)

// startKeys runs the consumer key subsystem: the sy_keys watch into an
// in-memory snapshot (loaded before it returns, so the edge never answers
// 401 for a key that exists) and the sy.admin.v1.keys.* service. errs
// receives the watch's error if it ends; stop ends the admin service.
func (a *App) startKeys(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) (auth *keys.Authenticator, errs <-chan error, stop func(), err error) {
	cache := &keys.Cache{}
	watchErr, err := watchKeys(ctx, cache, js, a.log)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := keys.OpenStore(ctx, js)
	if err != nil {
		return nil, nil, nil, err
	}
	set := keysendpoint.New(keys.NewAdmin(store, cache, a.log), a.log)
	ms, err := keystransport.Serve(nc, set, a.cfg.Version, a.log)
	if err != nil {
		return nil, nil, nil, err
	}
	return keys.NewAuthenticator(a.cfg.Keys, cache, a.log), watchErr, func() { _ = ms.Stop() }, nil
}

// watchKeys starts a watcher filling cache and waits for its initial
// values.
func watchKeys(ctx context.Context, cache *keys.Cache, js jetstream.JetStream, log *slog.Logger) (<-chan error, error) {
	ready := make(chan struct{})
	errs := make(chan error, 1)
	go func() { errs <- keys.NewWatcher(cache, js, log).Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
		return errs, nil
	case err := <-errs:
		return nil, fmt.Errorf("watch consumer keys: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// KeyCheck is a live view of sy_keys as every router replica keeps it,
// for other modules' end-to-end tests: it answers what the edge's
// authentication would, without going through the edge.
type KeyCheck struct{ auth *keys.Authenticator }

// WatchKeyCheck starts a sy_keys watch (until ctx ends) and returns once
// it holds the bucket's current keys.
func WatchKeyCheck(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (*KeyCheck, error) {
	cache := &keys.Cache{}
	if _, err := watchKeys(ctx, cache, js, log); err != nil {
		return nil, err
	}
	return &KeyCheck{auth: keys.NewAuthenticator(keys.DefaultConfig(), cache, log)}, nil
}

// Authenticate returns the id of the key presented in r ("Authorization:
// Bearer sy-…"), or the OpenAI-shaped error the edge would answer with.
func (k *KeyCheck) Authenticate(r *http.Request) (string, error) {
	p, err := k.auth.Authenticate(r)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}
