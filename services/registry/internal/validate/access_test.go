package validate

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReservedNamesAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		field string
	}{
		{"v1", Name, FieldName},
		{"passthrough", Name, FieldName},
		{"v1", Namespace, FieldNamespace},
		{"passthrough", Namespace, FieldNamespace},
	}
	for _, tc := range tests {
		var e *Error
		if err := tc.check(tc.name); !errors.As(err, &e) || e.Field != tc.field || !strings.Contains(e.Message, "reserved") {
			t.Errorf("%s as %s: %v", tc.name, tc.field, err)
		}
	}
	for _, ok := range []string{"v1-proxy", "v2", "passthrough.team"} {
		if err := Name(ok); err != nil {
			t.Errorf("Name(%q) = %v", ok, err)
		}
	}
}

func TestAccessPolicy(t *testing.T) {
	tests := []struct {
		name            string
		groups, domains []string
		wantGroups      []string
		wantDomains     []string
		wantField       string
	}{
		{"empty", nil, nil, nil, nil, ""},
		{"lower-cased", []string{"Research", "ops:GPU"}, []string{"@Lab.Example", "uni.edu"},
			[]string{"research", "ops:gpu"}, []string{"lab.example", "uni.edu"}, ""},
		{"group with space", []string{"r d"}, nil, nil, nil, FieldAllowedGroups},
		{"duplicate after lowering", []string{"A", "a"}, nil, nil, nil, FieldAllowedGroups},
		{"domain without dot", nil, []string{"localhost"}, nil, nil, FieldAllowedDomains},
		{"domain with slash", nil, []string{"lab.example/x"}, nil, nil, FieldAllowedDomains},
		{"domain leading dot", nil, []string{".lab.example"}, nil, nil, FieldAllowedDomains},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, d, err := AccessPolicy(tc.groups, tc.domains)
			var e *Error
			switch {
			case tc.wantField == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantField != "" && (!errors.As(err, &e) || e.Field != tc.wantField):
				t.Fatalf("error %v, want one on %s", err, tc.wantField)
			case tc.wantField == "" && (!slices.Equal(g, tc.wantGroups) || !slices.Equal(d, tc.wantDomains)):
				t.Fatalf("got %v %v, want %v %v", g, d, tc.wantGroups, tc.wantDomains)
			}
		})
	}
}

func TestServiceLimits(t *testing.T) {
	if err := Limits(60, 0); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := Limits(-1, 0); !errors.As(err, &e) || e.Field != FieldLimits {
		t.Fatalf("negative rpm: %v", err)
	}
}
