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
	// Client is the outbound client for this service's TLS setting.
	Client *http.Client
}

// Name is the service name.
func (r *Route) Name() string { return r.Service.GetName() }

// Usable reports whether the route may take traffic: its key resolved and
// healthcheck has not marked it Failed.
func (r *Route) Usable() bool { return r.KeyErr == "" && r.State != "Failed" }

// Table is an immutable snapshot of every route.
type Table struct {
	byName  map[string]*Route
	byModel map[string][]*Route
	models  []string
}

// NewTable indexes routes.
func NewTable(routes map[string]*Route) *Table {
	t := &Table{byName: make(map[string]*Route, len(routes)), byModel: map[string][]*Route{}}
	for name, r := range routes {
		t.byName[name] = r
		m := r.Service.GetModel()
		t.byModel[m] = append(t.byModel[m], r)
	}
	for m, rs := range t.byModel {
		slices.SortFunc(rs, func(a, b *Route) int { return strings.Compare(a.Name(), b.Name()) })
		t.models = append(t.models, m)
	}
	slices.Sort(t.models)
	return t
}

// ForModel returns the routes serving an edge model id, usable ones first.
func (t *Table) ForModel(model string) []*Route { return t.byModel[model] }

// ByName returns the route of one service.
func (t *Table) ByName(name string) (*Route, bool) {
	r, ok := t.byName[name]
	return r, ok
}

// Models lists the edge model ids, sorted.
func (t *Table) Models() []string { return t.models }

// Len is the number of routes.
func (t *Table) Len() int { return len(t.byName) }

// Cache holds the current table.
type Cache struct{ cur atomic.Pointer[Table] }

// Load returns the current table (never nil).
func (c *Cache) Load() *Table {
	if t := c.cur.Load(); t != nil {
		return t
	}
	return emptyTable
}

func (c *Cache) store(t *Table) { c.cur.Store(t) }

var emptyTable = NewTable(nil)
