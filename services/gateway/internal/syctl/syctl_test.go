package syctl

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestHelpAndVersion(t *testing.T) {
	cases := []struct {
		args  []string
		code  int
		wants []string
	}{
		{[]string{"help"}, ExitOK, []string{"services", "usage", "credentials", "SY_NATS_URL"}},
		{[]string{"-h"}, ExitOK, []string{"Commands:", "--nats-url"[1:]}},
		{[]string{}, ExitUsage, []string{"Commands:", "needs a command"}},
		{[]string{"services", "-h"}, ExitOK, []string{"register", "deregister", "syctl services COMMAND"}},
		{[]string{"services", "register", "-h"}, ExitOK, []string{"syctl services register NAME", "-api-key KEY", "--api-key -"}},
		{[]string{"help", "services", "update"}, ExitOK, []string{"syctl services update NAME", "create-only"}},
		{[]string{"services", "help", "register"}, ExitOK, []string{"syctl services register NAME"}},
		{[]string{"usage", "--help"}, ExitOK, []string{"--since", "RFC 3339"}},
		{[]string{"credentials", "gen-master-key", "-h"}, ExitOK, []string{"-id ID"}},
		{[]string{"help", "nope"}, ExitUsage, []string{`unknown command "nope"`}},
		{[]string{"nope"}, ExitUsage, []string{`unknown command "nope"`}},
		{[]string{"--bogus"}, ExitUsage, []string{"-bogus"}},
		{[]string{"version"}, ExitOK, []string{"syctl "}},
		{[]string{"version", "extra"}, ExitUsage, []string{"no arguments"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runSyctl(t, "", tc.args...)
			assertCode(t, r, tc.code)
			assertContains(t, "output", r.all(), tc.wants...)
		})
	}
}

func TestHelpNeverShowsThePassword(t *testing.T) {
	t.Setenv("SY_NATS_PASSWORD", "hunter2-canary")
	for _, args := range [][]string{{"-h"}, {"services", "list", "-h"}} {
		if r := runSyctl(t, "", args...); strings.Contains(r.all(), "hunter2-canary") {
			t.Errorf("%v printed the NATS password:\n%s", args, r.all())
		}
	}
}

func TestNothingAnswers(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name  string
		run   func() result
		wants []string
	}{
		{"no responders", func() result { return e.run(t, "", "services", "list") },
			[]string{"no service answers on " + contract.SubjServicesList, "hint:", "make run"}},
		{"no server", func() result { return runSyctl(t, "", "--nats-url", "nats://127.0.0.1:1", "services", "list") },
			[]string{"cannot connect to NATS at nats://127.0.0.1:1", "make run"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run()
			assertCode(t, r, ExitError)
			assertContains(t, "stderr", r.stderr, tc.wants...)
		})
	}
}

func TestConnectErrorRedactsThePassword(t *testing.T) {
	r := runSyctl(t, "", "--nats-url", "nats://bob:hunter2-canary@127.0.0.1:1", "services", "list")
	assertCode(t, r, ExitError)
	if strings.Contains(r.all(), "hunter2-canary") {
		t.Errorf("the NATS password was printed:\n%s", r.all())
	}
	assertContains(t, "stderr", r.stderr, "bob:xxxxx@127.0.0.1:1")
}

func TestTimeoutHint(t *testing.T) {
	e := newTestEnv(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	serveFake(t, e, contract.SubjServicesGet, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} },
		func(*pb.GetServiceRequest) (proto.Message, error) {
			<-release
			return &pb.GetServiceResponse{}, nil
		})
	r := runSyctl(t, "", "--nats-url", e.url, "--timeout", "200ms", "services", "get", "slow")
	assertCode(t, r, ExitError)
	assertContains(t, "stderr", r.stderr, "no reply on "+contract.SubjServicesGet, "--timeout")
}

func TestGlobalFlagsFromEnvAndCommandLine(t *testing.T) {
	e := newTestEnv(t)
	serveFake(t, e, contract.SubjServicesList, func() *pb.ListServicesRequest { return &pb.ListServicesRequest{} },
		replyWith[*pb.ListServicesRequest](listFixture(), nil))
	t.Setenv("SY_NATS_URL", e.url)
	t.Setenv("SY_OUTPUT", "json")
	cases := []struct {
		name string
		args []string
		json bool
	}{
		{"env alone", []string{"services", "list"}, true},
		{"flag after the command wins", []string{"services", "list", "-o", "table"}, false},
		{"flag before the command wins", []string{"--output", "table", "services", "list"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runSyctl(t, "", tc.args...)
			assertCode(t, r, ExitOK)
			if isJSON := strings.HasPrefix(r.stdout, "{"); isJSON != tc.json {
				t.Errorf("json output = %v, want %v:\n%s", isJSON, tc.json, r.stdout)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	code := Run(ctx, []string{"--nats-url", e.url, "services", "list"}, strings.NewReader(""), &out, &errb)
	if code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	if !strings.Contains(errb.String(), "canceled") {
		t.Errorf("stderr does not say the request was cancelled:\n%s", errb.String())
	}
}
