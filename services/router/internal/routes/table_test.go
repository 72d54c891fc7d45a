package routes

import (
	"slices"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestTableIndexesAliases(t *testing.T) {
	routes := map[string]*Route{
		"a": {Service: &pb.Service{Name: "a", Model: "m1"}},
		"b": {Service: &pb.Service{Name: "b", Model: "m2"}},
	}
	aliases := map[string]*pb.ModelAlias{
		"chat": {Name: "chat", Targets: []*pb.AliasTarget{{Service: "a", Weight: 3}, {Service: "gone"}, {Service: "b"}}},
		"m1":   {Name: "m1", ModelFrom: "header:X-Model", Targets: []*pb.AliasTarget{{Service: "b"}}},
	}
	tab := NewTableWithAliases(routes, aliases)
	if got := tab.Models(); !slices.Equal(got, []string{"chat", "m1", "m2"}) {
		t.Fatalf("models %v", got)
	}
	a, ok := tab.Alias("chat")
	if !ok || len(a.Targets) != 3 || a.Targets[0].Weight != 3 || a.Targets[1].Weight != 1 || a.Targets[1].Route != nil {
		t.Fatalf("alias %+v", a)
	}
	tests := []struct {
		model string
		want  []string
	}{
		{"chat", []string{"a", "b"}}, // the unregistered target is left out
		{"m1", []string{"b"}},        // an alias wins over a model id
		{"m2", []string{"b"}},
		{"nope", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range tab.Serving(tc.model) {
			got = append(got, r.Name())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Serving(%q) = %v, want %v", tc.model, got, tc.want)
		}
	}
	var c Cache
	if c.Ready() || c.Load().Len() != 0 {
		t.Fatal("a new cache is ready or not empty")
	}
	c.store(tab)
	c.markReady()
	if !c.Ready() || c.Load() != tab {
		t.Fatal("the stored table is not served")
	}
}
