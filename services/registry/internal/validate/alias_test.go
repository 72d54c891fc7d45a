package validate

import (
	"strings"
	"testing"
)

func TestAlias(t *testing.T) {
	one := []AliasTarget{{Service: "openai-main", Weight: 1}}
	tests := []struct {
		name      string
		alias     string
		targets   []AliasTarget
		modelFrom string
		field     string
		want      []string
	}{
		{"simple", "gpt-4o", one, "", "", nil},
		{"slashes and weights", "team/chat", []AliasTarget{{"a", 3}, {"b", 0}}, "", "", nil},
		{"header source", "chat", one, "header:X-Model", "", nil},
		{"query source", "chat", one, "query:model", "", nil},
		{"path source", "chat", one, "path", "", nil},
		{"empty name", "", one, "", FieldAliasName, []string{"alias name", "required"}},
		{"space in name", "my model", one, "", FieldAliasName, []string{"alias name", "no spaces"}},
		{"no targets", "chat", nil, "", FieldAliasTargets, []string{"at least one target", "--target"}},
		{"bad target name", "chat", []AliasTarget{{"Open_AI", 1}}, "", FieldAliasTargets, []string{`target "Open_AI" is not a service name`, RuleNameNoUppercase}},
		{"duplicate target", "chat", []AliasTarget{{"a", 1}, {"a", 2}}, "", FieldAliasTargets, []string{`"a" is listed twice`}},
		{"too many targets", "chat", manyTargets(MaxAliasTargets + 1), "", FieldAliasTargets, []string{"the maximum is 32"}},
		{"unknown source", "chat", one, "cookie:x", FieldAliasModelFrom, []string{`"cookie:x" is not understood`, "header:<Header-Name>"}},
		{"empty header", "chat", one, "header:", FieldAliasModelFrom, []string{"not understood"}},
		{"header with space", "chat", one, "header:X Model", FieldAliasModelFrom, []string{"not understood"}},
		{"query with ampersand", "chat", one, "query:a&b", FieldAliasModelFrom, []string{"not understood"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Alias(tt.alias, tt.targets, tt.modelFrom), tt.field, tt.want)
		})
	}
}

func manyTargets(n int) []AliasTarget {
	out := make([]AliasTarget, n)
	for i := range out {
		out[i] = AliasTarget{Service: "svc-" + strings.Repeat("a", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))}
	}
	return out
}
