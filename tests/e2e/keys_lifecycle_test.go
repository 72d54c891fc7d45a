package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/gateway/syctlapp"
	"github.com/switchyard/switchyard/services/router/routerapp"
	"github.com/switchyard/switchyard/tests/harness"
)

// runSyctl runs the real CLI against g and returns stdout, stderr and the
// exit code.
func runSyctl(g *harness.Gateway, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	args = append([]string{"--nats-url", g.NATSURL}, args...)
	code = syctlapp.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestKeysLifecycle creates a consumer key with syctl, checks that it is
// shown once and listed only by its prefix, that a router replica's
// snapshot authenticates it, and that a revoke is enforced within 1 s.
func TestKeysLifecycle(t *testing.T) {
	forEachMode(t, func(t *testing.T, g *harness.Gateway) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		check, err := routerapp.WatchKeyCheck(ctx, g.JS, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}

		out, stderr, code := runSyctl(g, "keys", "create", "--owner", "ana@lab.example", "--group", "research",
			"--model", "gpt-4o-mini", "--rpm", "60", "-o", "json")
		if code != 0 {
			t.Fatalf("keys create exited %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "only time the key is shown") {
			t.Errorf("no show-once warning on stderr: %q", stderr)
		}
		var created pb.CreateKeyResponse
		if err := protojson.Unmarshal([]byte(out), &created); err != nil {
			t.Fatalf("create output %q: %v", out, err)
		}
		key, id, prefix := created.GetKey(), created.GetRecord().GetId(), created.GetRecord().GetPrefix()
		if !strings.HasPrefix(key, "sy-") || !strings.HasPrefix(key, prefix) || len(prefix) >= len(key) {
			t.Fatalf("created key %q… with prefix %q", key[:min(len(key), 6)], prefix)
		}
		secret := key[len(prefix):]

		for _, args := range [][]string{{"keys", "list"}, {"keys", "list", "-o", "json"}, {"keys", "list", "--owner", "ana@lab.example"}} {
			out, stderr, code := runSyctl(g, args...)
			if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, prefix) {
				t.Fatalf("%v exited %d, out %q, err %q; want the id and prefix", args, code, out, stderr)
			}
			if strings.Contains(out, secret) {
				t.Fatalf("%v shows the key", args)
			}
		}

		harness.Eventually(t, time.Second, "the new key authenticates", func() bool {
			got, err := check.Authenticate(bearerRequest(key))
			return err == nil && got == id
		})
		assertAdminNotOnHTTP(t, g, key, prefix)

		if _, stderr, code := runSyctl(g, "keys", "revoke", id); code != 0 {
			t.Fatalf("keys revoke exited %d: %s", code, stderr)
		}
		took := harness.Eventually(t, time.Second, "the revoked key is refused", func() bool {
			_, err := check.Authenticate(bearerRequest(key))
			return err != nil
		})
		t.Logf("revoke enforced %s after syctl returned", took)
		if _, err := check.Authenticate(bearerRequest(key)); err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("revoked key refused with %v", err)
		}
		out, _, _ = runSyctl(g, "keys", "list")
		if !strings.Contains(out, "revoked") {
			t.Fatalf("list does not show the key revoked:\n%s", out)
		}
	})
}

// TestKeysUpdateAndRefusals drives keys update and the CLI's refusals.
func TestKeysUpdateAndRefusals(t *testing.T) {
	g := harness.Start(t, harness.AllInOne, harness.Options{})
	out, stderr, code := runSyctl(g, "keys", "create", "--owner", "bo@corp.example", "-o", "json")
	if code != 0 {
		t.Fatalf("create exited %d: %s", code, stderr)
	}
	var created pb.CreateKeyResponse
	if err := protojson.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	id := created.GetRecord().GetId()
	out, stderr, code = runSyctl(g, "keys", "update", id, "--group", "ops", "--model-limit", "gpt-4o=10/1000", "--expires", "30d")
	if code != 0 || !strings.Contains(out, "ops") || !strings.Contains(out, "gpt-4o: 10 rpm 1000 tpm") {
		t.Fatalf("update exited %d:\n%s%s", code, out, stderr)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"keys", "create"}, 2, "--owner"},
		{[]string{"keys", "create", "--owner", "a@x.example", "--service", "not-registered"}, 1, "not-registered"},
		{[]string{"keys", "update", id}, 2, "at least one of"},
		{[]string{"keys", "update", id, "--rpm", "-5"}, 2, "--rpm"},
		{[]string{"keys", "revoke", "key_unknown"}, 1, "no consumer key"},
	}
	for _, tc := range cases {
		_, stderr, code := runSyctl(g, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v exited %d with %q; want %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// assertAdminNotOnHTTP is the S4 cell "consumer key → admin": whatever
// admin-looking path a valid key tries on the edge, it gets no key data.
func assertAdminNotOnHTTP(t *testing.T, g *harness.Gateway, key, prefix string) {
	t.Helper()
	for _, path := range []string{"/sy.admin.v1.keys.list", "/v1/sy.admin.v1.keys.list", "/v1/keys", "/admin/keys", "/v1/admin/keys"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, g.EdgeURL+path, strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode < 400 || strings.Contains(string(body), prefix) {
				t.Errorf("%s %s answered %d %q; want a refusal without key data", method, path, res.StatusCode, body)
			}
		}
	}
}

func bearerRequest(key string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://edge/v1/chat/completions", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("Authorization", "Bearer "+key)
	return r
}
