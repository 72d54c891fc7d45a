package natsperm

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchyard/switchyard/pkg/contract"
)

// contractDir is read as source so that a subject constant added to the
// contract without a NATS permission fails here.
const contractDir = "../../pkg/contract"

// perms are one user's allow lists.
type perms struct{ pub, sub []string }

func allowed(patterns []string, subject string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return server.SubjectMatchesFilter(subject, p) })
}

func usersPerms(t *testing.T) map[string]perms {
	t.Helper()
	out := map[string]perms{}
	for _, u := range loadOptions(t).Users {
		var p perms
		if u.Permissions != nil && u.Permissions.Publish != nil {
			p.pub = u.Permissions.Publish.Allow
		}
		if u.Permissions != nil && u.Permissions.Subscribe != nil {
			p.sub = u.Permissions.Subscribe.Allow
		}
		out[u.Username] = p
	}
	for _, u := range append(serviceUsers, "admin") {
		if _, ok := out[u]; !ok {
			t.Fatalf("auth.conf has no user %q", u)
		}
	}
	return out
}

// anyService returns the service users whose list (pub or sub) allows subject.
func anyService(all map[string]perms, subject string, sub bool) []string {
	var who []string
	for _, u := range serviceUsers {
		list := all[u].pub
		if sub {
			list = all[u].sub
		}
		if allowed(list, subject) {
			who = append(who, u)
		}
	}
	return who
}

func TestAuthConfCoversEverySubjectInTheContract(t *testing.T) {
	all := usersPerms(t)
	for name, subject := range subjectConstants(t) {
		switch {
		case strings.HasSuffix(subject, ">"): // an event stream's filter
			concrete := strings.TrimSuffix(subject, ">") + "x.y"
			if len(anyService(all, concrete, false)) == 0 {
				t.Errorf("%s (%s): no service user may publish %s", name, subject, concrete)
			}
		case strings.HasPrefix(subject, "sy.admin."):
			if len(anyService(all, subject, true)) == 0 || !allowed(all["admin"].pub, subject) {
				t.Errorf("%s (%s): needs a serving service user and the admin user's publish", name, subject)
			}
		default: // service-to-service RPC
			servers, callers := anyService(all, subject, true), anyService(all, subject, false)
			if len(servers) == 0 || len(callers) == 0 {
				t.Errorf("%s (%s): served by %v, callable by %v", name, subject, servers, callers)
			}
		}
	}
}

func TestAuthConfCoversEveryStreamBucketAndConsumer(t *testing.T) {
	all := usersPerms(t)
	topo := contract.Declare(contract.DefaultOptions())
	for _, kc := range topo.Buckets {
		for _, subject := range []string{"$KV." + kc.Bucket + ".k", "$JS.API.STREAM.INFO.KV_" + kc.Bucket} {
			if len(anyService(all, subject, false)) == 0 {
				t.Errorf("bucket %s: no service user may publish %s", kc.Bucket, subject)
			}
		}
	}
	for _, c := range topo.Consumers {
		next := fmt.Sprintf("$JS.API.CONSUMER.MSG.NEXT.%s.%s", c.Stream, c.Config.Durable)
		if len(anyService(all, next, false)) == 0 {
			t.Errorf("consumer %s: nobody may pull (%s)", c.Config.Durable, next)
		}
	}
	for _, sc := range topo.Streams {
		for _, filter := range sc.Subjects {
			if len(anyService(all, strings.TrimSuffix(filter, ">")+"x", false)) == 0 {
				t.Errorf("stream %s: no service user publishes into %s", sc.Name, filter)
			}
		}
	}
}

// TestAuthConfNamesNothingTheContractLacks catches the other drift: a
// permission left behind for a renamed stream, bucket or subject.
func TestAuthConfNamesNothingTheContractLacks(t *testing.T) {
	topo := contract.Declare(contract.DefaultOptions())
	known := map[string]bool{}
	for _, sc := range topo.Streams {
		known[sc.Name] = true
	}
	for _, kc := range topo.Buckets {
		known["KV_"+kc.Bucket], known["$KV."+kc.Bucket] = true, true
	}
	streamRef := regexp.MustCompile(`(KV_[A-Za-z0-9_-]+|\$KV\.[A-Za-z0-9_-]+|SY_[A-Za-z0-9_-]+)`)
	subjects := slices.Collect(maps.Values(subjectConstants(t)))
	for user, p := range usersPerms(t) {
		for _, pattern := range slices.Concat(p.pub, p.sub) {
			for _, ref := range streamRef.FindAllString(pattern, -1) {
				if !known[ref] {
					t.Errorf("%s: %q names %s, which pkg/contract does not declare", user, pattern, ref)
				}
			}
			if strings.HasPrefix(pattern, "sy.") && !slices.ContainsFunc(subjects, func(s string) bool {
				return server.SubjectsCollide(pattern, s)
			}) {
				t.Errorf("%s: %q matches no subject of pkg/contract", user, pattern)
			}
		}
	}
}

// subjectConstants evaluates every Subj* string constant of pkg/contract
// from source (they are concatenations of prefix constants).
func subjectConstants(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(contractDir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no contract sources in %s: %v", contractDir, err)
	}
	exprs := map[string]ast.Expr{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		collectConsts(file, exprs)
	}
	out := map[string]string{}
	for name := range exprs {
		if strings.HasPrefix(name, "Subj") {
			v, err := evalString(exprs, exprs[name])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = v
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d Subj* constants in %s", len(out), contractDir)
	}
	return out
}

func collectConsts(file *ast.File, into map[string]ast.Expr) {
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					into[n.Name] = vs.Values[i]
				}
			}
		}
	}
}

func evalString(consts map[string]ast.Expr, e ast.Expr) (string, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", fmt.Errorf("not a string: %s", e.Value)
		}
		return strconv.Unquote(e.Value)
	case *ast.Ident:
		if v, ok := consts[e.Name]; ok {
			return evalString(consts, v)
		}
		return "", fmt.Errorf("unknown constant %s", e.Name)
	case *ast.BinaryExpr:
		l, err := evalString(consts, e.X)
		if err != nil {
			return "", err
		}
		r, err := evalString(consts, e.Y)
		return l + r, err
	case *ast.ParenExpr:
		return evalString(consts, e.X)
	}
	return "", fmt.Errorf("unsupported expression %T", e)
}
