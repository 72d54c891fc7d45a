package routes

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/secret"
)

// Clients gives the outbound transport for a service's TLS setting.
type Clients struct {
	Secure, Insecure http.RoundTripper
}

// Watcher keeps a Cache current from the sy_services, sy_status and
// sy_routes (model aliases) buckets and resolves each service's key through the credential service, again
// whenever sy.evt.credential.<name>.changed says the key behind an
// unchanged record changed.
type Watcher struct {
	cache   *Cache
	nc      *nats.Conn
	js      jetstream.JetStream
	clients Clients
	log     *slog.Logger

	mu      sync.Mutex
	routes  map[string]*Route
	states  map[string]string
	aliases map[string]*pb.ModelAlias
}

// NewWatcher returns a watcher that fills cache.
func NewWatcher(cache *Cache, nc *nats.Conn, js jetstream.JetStream, clients Clients, log *slog.Logger) *Watcher {
	return &Watcher{cache: cache, nc: nc, js: js, clients: clients, log: log,
		routes: map[string]*Route{}, states: map[string]string{}, aliases: map[string]*pb.ModelAlias{}}
}

// Run watches until ctx ends; ready is called once every bucket's initial
// values are in the table (the cache reports Ready from then on).
func (w *Watcher) Run(ctx context.Context, ready func()) error {
	buckets := []struct {
		name  string
		apply func(jetstream.KeyValueEntry)
	}{
		{contract.BucketServices, func(e jetstream.KeyValueEntry) { w.applyService(ctx, e) }},
		{contract.BucketStatus, w.applyStatus},
		{contract.BucketRoutes, w.applyAlias},
	}
	updates := make(chan bucketEntry)
	errs := make(chan error, len(buckets))
	for _, b := range buckets {
		kw, err := w.watch(ctx, b.name)
		if err != nil {
			return err
		}
		defer func() { _ = kw.Stop() }()
		go forward(ctx, b.name, kw, updates, errs)
	}
	changed, err := w.nc.Subscribe(contract.SubjCredentialEvents, func(m *nats.Msg) { w.credentialChanged(ctx, m.Subject) })
	if err != nil {
		return err
	}
	defer func() { _ = changed.Unsubscribe() }()
	apply := map[string]func(jetstream.KeyValueEntry){}
	for _, b := range buckets {
		apply[b.name] = b.apply
	}
	return w.loop(ctx, updates, errs, apply, len(buckets), ready)
}

// bucketEntry is a KV update tagged with its bucket; a nil entry marks the
// end of that bucket's initial values.
type bucketEntry struct {
	bucket string
	entry  jetstream.KeyValueEntry
}

// loop applies updates one at a time (so tables are built in order) and
// calls ready once every bucket delivered its initial values.
func (w *Watcher) loop(ctx context.Context, updates <-chan bucketEntry, errs <-chan error,
	apply map[string]func(jetstream.KeyValueEntry), pending int, ready func()) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case be := <-updates:
			if be.entry == nil {
				if pending--; pending == 0 {
					w.cache.markReady()
					ready()
				}
				continue
			}
			apply[be.bucket](be.entry)
		}
	}
}

// forward tags one watcher's updates with its bucket.
func forward(ctx context.Context, bucket string, kw jetstream.KeyWatcher, out chan<- bucketEntry, errs chan<- error) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-kw.Updates():
			if !ok {
				errs <- errors.New(bucket + " watch closed")
				return
			}
			select {
			case out <- bucketEntry{bucket: bucket, entry: e}:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (w *Watcher) watch(ctx context.Context, bucket string) (jetstream.KeyWatcher, error) {
	kv, err := w.js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return kv.WatchAll(ctx)
}

func (w *Watcher) applyService(ctx context.Context, e jetstream.KeyValueEntry) {
	name, ok := contract.Untoken(e.Key())
	if !ok {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		w.update(func(routes map[string]*Route) { delete(routes, name) })
		return
	}
	var svc pb.Service
	if err := proto.Unmarshal(e.Value(), &svc); err != nil {
		w.log.Warn("undecodable service record", "key", e.Key(), "err", err)
		return
	}
	r, retry := w.newRoute(ctx, &svc, w.current(name))
	w.update(func(routes map[string]*Route) { routes[name] = r })
	if retry {
		go w.retryKey(ctx, name, &svc)
	}
}

// current is the route now in the table under name, or nil.
func (w *Watcher) current(name string) *Route {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.routes[name]
}

// retryKey resolves a key that failed (the credential service may be
// restarting) with backoff, until it resolves or the record changes.
func (w *Watcher) retryKey(ctx context.Context, name string, svc *pb.Service) {
	for delay := time.Second; ctx.Err() == nil; delay = min(2*delay, 30*time.Second) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		key, err := w.resolve(ctx, svc.GetCredentialRef())
		if err != nil {
			continue
		}
		w.update(func(routes map[string]*Route) {
			if cur, ok := routes[name]; ok && proto.Equal(cur.Service, svc) {
				routes[name] = cur.withKey(key, nil)
			}
		})
		return
	}
}

// newRoute resolves the service's key. A key that cannot be resolved keeps
// the route in the table, unusable, with the reason, rather than dropping
// the service silently. When the credential service does not answer
// (apierr.Transient) and prev, the route this record replaces, holds a
// working key of the same credential, that key stays: a record edit
// during a credential-service restart must not take a working service off
// the edge. retry says the key is to be fetched again (it failed, or is
// the previous record's).
func (w *Watcher) newRoute(ctx context.Context, svc *pb.Service, prev *Route) (r *Route, retry bool) {
	r = &Route{Service: svc, Transport: w.clients.Secure}
	if svc.GetAllowInsecureTls() {
		r.Transport = w.clients.Insecure
	}
	key, err := w.resolve(ctx, svc.GetCredentialRef())
	switch {
	case err == nil:
		r.Key = key
		return r, false
	case apierr.Transient(err) && prev != nil && prev.KeyErr == "" &&
		prev.Service.GetCredentialRef() == svc.GetCredentialRef():
		r.Key = prev.Key
		w.log.Warn("credential service did not answer; keeping the service's current key", "service", svc.GetName(),
			"err", apierr.As(err).Message)
	default:
		r.KeyErr = apierr.As(err).Message
		w.log.Warn("credential unresolvable; service not routable", "service", svc.GetName(), "err", r.KeyErr)
	}
	return r, true
}

// withKey is a copy of r with a newly resolved key, or unusable with
// keyErr's message when that is not nil.
func (r *Route) withKey(key secret.Secret, keyErr error) *Route {
	c := *r
	c.Key, c.KeyErr = key, ""
	if keyErr != nil {
		c.KeyErr = apierr.As(keyErr).Message
	}
	return &c
}

func (w *Watcher) resolve(ctx context.Context, ref string) (secret.Secret, error) {
	var rep pb.ResolveCredentialResponse
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := natsrpc.Call(cctx, w.nc, contract.SubjCredentialResolve, &pb.ResolveCredentialRequest{Name: ref}, &rep); err != nil {
		return secret.Secret{}, err
	}
	return secret.New(rep.GetValue()), nil
}

// credentialChanged re-resolves the key of every route whose credential
// changed behind an unchanged service record (a rotated key file), so a
// rotated Secret reaches the edge without touching the record. The old key
// keeps serving until the new one is in the table.
func (w *Watcher) credentialChanged(ctx context.Context, subject string) {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 {
		return
	}
	ref, ok := contract.Untoken(parts[3])
	if !ok {
		return
	}
	w.mu.Lock()
	var affected []*pb.Service
	for _, r := range w.routes {
		if r.Service.GetCredentialRef() == ref {
			affected = append(affected, r.Service)
		}
	}
	w.mu.Unlock()
	for _, svc := range affected {
		key, err := w.resolve(ctx, ref)
		if apierr.Transient(err) {
			// No answer is not a new key: the old one keeps serving
			// (rotations overlap) until a retry fetches the new one.
			w.log.Warn("credential changed but the credential service did not answer; keeping the current key until it does",
				"service", svc.GetName(), "err", apierr.As(err).Message)
			go w.retryKey(ctx, svc.GetName(), svc)
			continue
		}
		w.update(func(routes map[string]*Route) {
			cur, ok := routes[svc.GetName()]
			if !ok || !proto.Equal(cur.Service, svc) {
				return // the record moved on; its own resolve wins
			}
			routes[svc.GetName()] = cur.withKey(key, err)
		})
		if err != nil {
			w.log.Warn("changed credential unresolvable; service not routable", "service", svc.GetName(), "err", apierr.As(err).Message)
			go w.retryKey(ctx, svc.GetName(), svc)
		}
	}
}

func (w *Watcher) applyStatus(e jetstream.KeyValueEntry) {
	name, ok := contract.Untoken(e.Key())
	if !ok {
		return
	}
	state := ""
	if e.Operation() == jetstream.KeyValuePut {
		var st pb.Status
		if err := proto.Unmarshal(e.Value(), &st); err == nil {
			state = st.GetState()
			if ts := st.GetCheckedAt(); ts != nil {
				noteCheck(ts.AsTime())
			}
		}
	}
	w.mu.Lock()
	w.states[name] = state
	w.mu.Unlock()
	w.update(func(map[string]*Route) {})
}

// applyAlias stores or removes one model alias (sy_routes, binary
// ModelAlias keyed by the escaped alias name). Replacing an alias is one
// table swap, so a repointed model fails no request.
func (w *Watcher) applyAlias(e jetstream.KeyValueEntry) {
	name, ok := contract.Untoken(e.Key())
	if !ok {
		return
	}
	var a *pb.ModelAlias
	if e.Operation() == jetstream.KeyValuePut {
		a = &pb.ModelAlias{}
		if err := proto.Unmarshal(e.Value(), a); err != nil {
			w.log.Warn("undecodable model alias", "key", e.Key(), "err", err)
			return
		}
	}
	w.mu.Lock()
	if a == nil {
		delete(w.aliases, name)
	} else {
		w.aliases[name] = a
	}
	w.mu.Unlock()
	w.update(func(map[string]*Route) {})
}

// update applies fn to the route set and publishes a new table with the
// current health states and aliases folded in.
func (w *Watcher) update(fn func(map[string]*Route)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(w.routes)
	next := make(map[string]*Route, len(w.routes))
	for name, r := range w.routes {
		if st := w.states[name]; st != r.State {
			c := *r
			c.State = st
			r = &c
			w.routes[name] = r
		}
		next[name] = r
	}
	w.cache.store(NewTableWithAliases(next, w.aliases))
}
