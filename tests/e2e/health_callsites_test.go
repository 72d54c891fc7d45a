package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// outboundAllowlist holds the non-test files that may build HTTP clients
// without pkg/outbound, each with the reason. Nothing in a service belongs
// here: every call a service makes to an address an operator typed must go
// through the guarded constructor (TEST-PLAN S1, against the "dead guard"
// class of bugs where one code path skips the check).
var outboundAllowlist = map[string]string{
	"tests/harness/harness.go": "test client of the gateway's own edge",
	// Deployment tooling: fixed, operator-written addresses of Switchyard's
	// own containers, never a registered upstream.
	"deploy/tools/cmd/edgelb/main.go": "compose load balancer in front of the router replicas",
	"deploy/tools/cmd/probe/main.go":  "container health check of the service's own /readyz",
}

// outboundAllowedDirs are whole trees of test tooling that only ever call
// addresses the test itself started.
var outboundAllowedDirs = []string{
	"pkg/outbound/", // the guarded constructor itself
	"tests/bench/",  // load generators aimed at a local edge
	"tests/fakes/",  // fake upstreams
}

// TestEveryOutboundClientUsesTheGuardedConstructor parses every non-test Go
// file of the repository and fails on each place that builds or uses an
// HTTP client or transport directly.
func TestEveryOutboundClientUsesTheGuardedConstructor(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || allowedOutbound(rel) {
			return nil
		}
		files++
		found = append(found, unguardedHTTP(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files scanned under %s: the walk is broken", files, root)
	}
	if len(found) > 0 {
		t.Fatalf("HTTP clients built outside pkg/outbound (use outbound.NewClient, or allowlist a test helper with a reason):\n  %s",
			strings.Join(found, "\n  "))
	}
}

func allowedOutbound(rel string) bool {
	if _, ok := outboundAllowlist[rel]; ok {
		return true
	}
	return slices.ContainsFunc(outboundAllowedDirs, func(dir string) bool { return strings.HasPrefix(rel, dir) })
}

// unguardedHTTP lists http.Client{...}, http.Transport{...},
// http.DefaultClient, http.DefaultTransport and the package-level
// http.Get/Head/Post/PostForm in one file, whatever name net/http is
// imported under.
func unguardedHTTP(t *testing.T, path, rel string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	pkgName := httpImportName(f)
	if pkgName == "" {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		var what string
		switch n := n.(type) {
		case *ast.CompositeLit:
			if name := httpSelector(n.Type, pkgName); name == "Client" || name == "Transport" {
				what = "http." + name + "{...}"
			}
		case *ast.SelectorExpr:
			if name := httpSelector(n, pkgName); name == "DefaultClient" || name == "DefaultTransport" {
				what = "http." + name
			}
		case *ast.CallExpr:
			switch name := httpSelector(n.Fun, pkgName); name {
			case "Get", "Head", "Post", "PostForm":
				what = "http." + name + "(...)"
			}
		}
		if what != "" {
			out = append(out, rel+":"+strconv.Itoa(fset.Position(n.Pos()).Line)+": "+what)
		}
		return true
	})
	return out
}

func httpImportName(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "http"
		}
	}
	return ""
}

// httpSelector returns Sel when e is pkgName.Sel.
func httpSelector(e ast.Expr, pkgName string) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkgName {
		return sel.Sel.Name
	}
	return ""
}

// The scanner itself must catch each form, or a green run proves nothing.
func TestOutboundScannerCatchesEachForm(t *testing.T) {
	src := `package x
import h "net/http"
var a = &h.Client{}
var b = h.Transport{}
var c = h.DefaultClient
func d() { h.Get("http://x"); h.Post("http://x", "", nil); _ = h.DefaultTransport }
`
	path := filepath.Join(t.TempDir(), "x.go")
	if err := healthWriteFile(path, src); err != nil {
		t.Fatal(err)
	}
	got := unguardedHTTP(t, path, "x.go")
	if len(got) != 6 {
		t.Fatalf("scanner found %d of 6 forms: %v", len(got), got)
	}
}

func healthWriteFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }
