package deployk8s

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// alertRules is the subset of a Prometheus rules file deploy/prometheus uses.
type alertRules struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

var (
	metricInExpr   = regexp.MustCompile(`\b(switchyard_[a-z_]+|gen_ai_[a-z_]+)\b`)
	metricInSource = regexp.MustCompile(`Name:\s+"((?:switchyard|gen_ai)_[a-z_]+)"`)
)

// TestAlertRulesNameRegisteredMetrics keeps the alert rules and the code
// from drifting: every metric an alert uses must be registered by some
// service, and every alert must say what to do.
func TestAlertRulesNameRegisteredMetrics(t *testing.T) {
	data, err := os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	registered := registeredMetrics(t)
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			if r.Annotations["description"] == "" || r.Labels["severity"] == "" {
				t.Errorf("%s: needs a severity and a description saying what to do", r.Alert)
			}
			names := metricInExpr.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: expression names no Switchyard metric: %s", r.Alert, r.Expr)
			}
			for _, m := range names {
				if !registered[m] {
					t.Errorf("%s: metric %s is not registered by any service", r.Alert, m)
				}
			}
		}
	}
	if alerts == 0 {
		t.Fatal("no alerts parsed")
	}
}

func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, root := range []string{"../../services", "../../pkg"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range metricInSource.FindAllStringSubmatch(string(src), -1) {
				out[m[1]] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d registered metrics; the scan is broken", len(out))
	}
	return out
}
