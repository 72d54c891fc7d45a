package routes

import (
	"fmt"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// benchSizes are the registered-service counts of issue 8's "route lookup
// flat from 10 to 10,000 services".
var benchSizes = []int{10, 1000, 10000}

// benchRoutes registers n services over n/2 models (two per model) and one
// alias per 10 services.
func benchRoutes(n int) (map[string]*Route, map[string]*pb.ModelAlias) {
	routes := make(map[string]*Route, n)
	aliases := map[string]*pb.ModelAlias{}
	for i := range n {
		name := fmt.Sprintf("svc-%d", i)
		routes[name] = &Route{Service: &pb.Service{Name: name, Model: fmt.Sprintf("model-%d", i/2)}}
		if i%10 == 0 {
			alias := fmt.Sprintf("alias-%d", i)
			aliases[alias] = &pb.ModelAlias{Name: alias, Targets: []*pb.AliasTarget{{Service: name}}}
		}
	}
	return routes, aliases
}

// BenchmarkServing is the edge's lookup of an edge model name (a model id
// or an alias) in the current table: it must not grow with the table.
func BenchmarkServing(b *testing.B) {
	for _, n := range benchSizes {
		tab := NewTableWithAliases(benchRoutes(n))
		model, alias := fmt.Sprintf("model-%d", n/4), fmt.Sprintf("alias-%d", (n/20)*10)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			for b.Loop() {
				if len(tab.Serving(model)) != 2 || len(tab.Serving(alias)) != 1 {
					b.Fatal("lookup failed")
				}
			}
		})
	}
}

// BenchmarkByName is the pinned-path lookup (/{service}/v1/...).
func BenchmarkByName(b *testing.B) {
	for _, n := range benchSizes {
		tab := NewTableWithAliases(benchRoutes(n))
		name := fmt.Sprintf("svc-%d", n/3)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, ok := tab.ByName(name); !ok {
					b.Fatal("lookup failed")
				}
			}
		})
	}
}

// BenchmarkNewTable is the rebuild after a KV change, off the request
// path; it grows with the number of services.
func BenchmarkNewTable(b *testing.B) {
	for _, n := range benchSizes {
		routes, aliases := benchRoutes(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			for b.Loop() {
				NewTableWithAliases(routes, aliases)
			}
		})
	}
}
