// Package routes is the router's in-memory route cache: an immutable table
// of the registered services, their health and their resolved keys, kept
// current by KV watches and swapped atomically, so the request path never
// waits on NATS. When NATS is away the last table keeps serving.
package routes

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/secret"
)

// Route is one upstream service as the edge uses it.
type Route struct {
	Service *pb.Service
	// Key is the provider key; zero with KeyErr set when unresolvable.
	Key    secret.Secret
	KeyErr string
	// State is the health state from sy_status ("" until known).
	State string
	// Transport is the SSRF-guarded outbound transport (pkg/outbound) for
	// this service's TLS setting. The edge calls RoundTrip directly: the
	// request's context carries every limit, and a transport never follows
	// redirects, so http.Client would only add a header copy.
	Transport http.RoundTripper
}

// Name is the service name.
func (r *Route) Name() string { return r.Service.GetName() }

// Usable reports whether the route may take traffic: its key resolved and
// healthcheck has not marked it Failed.
func (r *Route) Usable() bool { return r.KeyErr == "" && r.State != "Failed" }

// Table is an immutable snapshot of every route and model alias.
type Table struct {
	byName  map[string]*Route
	byModel map[string][]*Route
	aliases map[string]*Alias
	models  []string
}

// NewTable indexes routes (no aliases).
func NewTable(routes map[string]*Route) *Table { return NewTableWithAliases(routes, nil) }

// NewTableWithAliases indexes routes and the model aliases (by name) that
// point at them. An alias target naming a service that is not in routes
// is kept with a nil Route, so the edge can say which service is missing.
func NewTableWithAliases(routes map[string]*Route, aliases map[string]*pb.ModelAlias) *Table {
	t := &Table{byName: make(map[string]*Route, len(routes)), byModel: map[string][]*Route{},
		aliases: make(map[string]*Alias, len(aliases))}
	for name, r := range routes {
		t.byName[name] = r
		m := r.Service.GetModel()
		t.byModel[m] = append(t.byModel[m], r)
	}
	for m, rs := range t.byModel {
		slices.SortFunc(rs, func(a, b *Route) int { return strings.Compare(a.Name(), b.Name()) })
		t.models = append(t.models, m)
	}
	for name, a := range aliases {
		t.aliases[name] = newAlias(a, t.byName)
		if _, dup := t.byModel[name]; !dup {
			t.models = append(t.models, name)
		}
	}
	slices.Sort(t.models)
	return t
}

// ForModel returns the services whose own model id is model, by name.
func (t *Table) ForModel(model string) []*Route { return t.byModel[model] }

// Alias returns the alias of an edge model name, if it is one.
func (t *Table) Alias(name string) (*Alias, bool) {
	a, ok := t.aliases[name]
	return a, ok
}

// Serving returns the routes behind an edge model name: an alias's
// registered targets, else the services with that model id. An alias wins
// over a model id of the same name, as it does at the edge.
func (t *Table) Serving(model string) []*Route {
	a, ok := t.aliases[model]
	if !ok {
		return t.byModel[model]
	}
	out := make([]*Route, 0, len(a.Targets))
	for _, tg := range a.Targets {
		if tg.Route != nil {
			out = append(out, tg.Route)
		}
	}
	return out
}

// ByName returns the route of one service.
func (t *Table) ByName(name string) (*Route, bool) {
	r, ok := t.byName[name]
	return r, ok
}

// Models lists the edge model names (model ids and aliases), sorted.
func (t *Table) Models() []string { return t.models }

// Len is the number of routes.
func (t *Table) Len() int { return len(t.byName) }

// Cache holds the current table.
type Cache struct {
	cur   atomic.Pointer[Table]
	ready atomic.Bool
}

// Ready reports whether the table holds the buckets' initial values: until
// then the edge answers 503, not a misleading 404.
func (c *Cache) Ready() bool { return c.ready.Load() }

func (c *Cache) markReady() { c.ready.Store(true) }

// Load returns the current table (never nil).
func (c *Cache) Load() *Table {
	if t := c.cur.Load(); t != nil {
		return t
	}
	return emptyTable
}

func (c *Cache) store(t *Table) { c.cur.Store(t) }

var emptyTable = NewTable(nil)

// Alias is a model alias resolved against the table's routes.
type Alias struct {
	Name string
	// ModelFrom says where a templated alias takes the upstream model id:
	// "" (each target's own model), "path", "header:<name>", "query:<name>".
	ModelFrom string
	Targets   []Target
}

// Target is one service behind an alias.
type Target struct {
	Service string
	Weight  uint32 // never 0 (an unset weight is 1)
	Route   *Route // nil when the service is not registered (any more)
}

func newAlias(a *pb.ModelAlias, byName map[string]*Route) *Alias {
	out := &Alias{Name: a.GetName(), ModelFrom: a.GetModelFrom(), Targets: make([]Target, 0, len(a.GetTargets()))}
	for _, tg := range a.GetTargets() {
		out.Targets = append(out.Targets, Target{Service: tg.GetService(), Weight: max(tg.GetWeight(), 1),
			Route: byName[tg.GetService()]})
	}
	return out
}
