package syctl

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func usageFixture() *pb.UsageQueryResponse {
	start := time.Date(2025, 3, 1, 12, 34, 0, 0, time.UTC)
	return &pb.UsageQueryResponse{Rows: []*pb.UsageRow{
		{Window: "minute", Start: timestamppb.New(start), Consumer: "app-a", Model: "gpt-4o", Service: "gpt4o",
			Requests: 2, PromptTokens: 30, CompletionTokens: 12, RateLimited: 4, CostUsd: 1.5},
		{Window: "minute", Start: timestamppb.New(start.Add(time.Minute)), Consumer: "app-b", Model: "gpt-4o", Service: "gpt4o",
			Requests: 1, PromptTokens: 7, CompletionTokens: 5, CostUsd: 0.000123},
	}}
}

func TestUsageTable(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjUsageQuery, func() *pb.UsageQueryRequest { return &pb.UsageQueryRequest{} },
		replyWith[*pb.UsageQueryRequest](usageFixture(), nil))
	r := e.run(t, "", "usage", "--model", "gpt-4o", "--service", "gpt4o", "--consumer", "app-a")
	assertCode(t, r, ExitOK)
	assertProto(t, "request", &pb.UsageQueryRequest{Model: "gpt-4o", Service: "gpt4o", Consumer: "app-a", Window: "minute"}, rec.only(t))

	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, 2 rows and a total, got:\n%s", r.stdout)
	}
	assertContains(t, "header", lines[0], "WINDOW START", "CONSUMER", "MODEL", "SERVICE", "REQUESTS", "PROMPT", "COMPLETION", "TOTAL", "LIMITED", "COST USD")
	wantRow := regexp.MustCompile(`^2025-03-01 12:34\s+app-a\s+gpt-4o\s+gpt4o\s+2\s+30\s+12\s+42\s+4\s+1\.50$`)
	if !wantRow.MatchString(lines[1]) {
		t.Errorf("row = %q, want it to match %s", lines[1], wantRow)
	}
	wantTotal := regexp.MustCompile(`^TOTAL\s.*\s3\s+37\s+17\s+54\s+4\s+1\.50$`)
	if !strings.Contains(lines[2], "0.000123") {
		t.Errorf("sub-cent spend must not read as free: %q", lines[2])
	}
	if !wantTotal.MatchString(lines[3]) {
		t.Errorf("total = %q, want it to match %s", lines[3], wantTotal)
	}
}

func TestUsageJSONAndEmpty(t *testing.T) {
	e := newTestEnv(t)
	reply := usageFixture()
	serveFake(t, e, contract.SubjUsageQuery, func() *pb.UsageQueryRequest { return &pb.UsageQueryRequest{} },
		func(req *pb.UsageQueryRequest) (proto.Message, error) {
			if req.GetConsumer() == "nobody" {
				return &pb.UsageQueryResponse{}, nil
			}
			return reply, nil
		})
	r := e.run(t, "", "usage", "-o", "json")
	assertCode(t, r, ExitOK)
	var got pb.UsageQueryResponse
	if err := protojson.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("-o json is not protojson: %v\n%s", err, r.stdout)
	}
	assertProto(t, "json output", reply, &got)

	r = e.run(t, "", "usage", "--consumer", "nobody")
	assertCode(t, r, ExitOK)
	assertContains(t, "stdout", r.stdout, "No usage recorded")
}

func TestUsageSince(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjUsageQuery, func() *pb.UsageQueryRequest { return &pb.UsageQueryRequest{} },
		replyWith[*pb.UsageQueryRequest](&pb.UsageQueryResponse{}, nil))
	cases := []struct {
		since    string
		lookback time.Duration // when > 0, Since is about now minus this
		exact    time.Time
	}{
		{since: "1h", lookback: time.Hour},
		{since: "7d", lookback: 7 * 24 * time.Hour},
		{since: "2025-01-31T12:00:00Z", exact: time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)},
		{since: "2025-01-31", exact: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.since, func(t *testing.T) {
			n := len(rec.requests())
			before := time.Now()
			r := e.run(t, "", "usage", "--window", "day", "--since", tc.since)
			after := time.Now()
			assertCode(t, r, ExitOK)
			req := rec.requests()[n]
			got := req.GetSince().AsTime()
			if req.GetWindow() != "day" {
				t.Errorf("window = %q, want day", req.GetWindow())
			}
			if tc.lookback > 0 && (got.Before(before.Add(-tc.lookback)) || got.After(after.Add(-tc.lookback))) {
				t.Errorf("since = %s, want now-%s (%s..%s)", got, tc.lookback, before.Add(-tc.lookback), after.Add(-tc.lookback))
			}
			if tc.lookback == 0 && !got.Equal(tc.exact) {
				t.Errorf("since = %s, want %s", got, tc.exact)
			}
		})
	}
}

func TestUsageBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"usage", "--window", "hour"}, "unknown --window"},
		{[]string{"usage", "--since", "yesterday"}, "--since \"yesterday\" is not a duration"},
		{[]string{"usage", "--since", "-1h"}, "is not a duration"},
		{[]string{"usage", "extra"}, "no arguments"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// No server: a usage error must be reported before connecting.
			r := runSyctl(t, "", append([]string{"--nats-url", "nats://127.0.0.1:1"}, tc.args...)...)
			assertCode(t, r, ExitUsage)
			assertContains(t, "stderr", r.stderr, tc.want)
		})
	}
}

func TestRotateMaster(t *testing.T) {
	e := newTestEnv(t)
	rec := serveFake(t, e, contract.SubjCredentialsRotate, func() *pb.RotateMasterRequest { return &pb.RotateMasterRequest{} },
		replyWith[*pb.RotateMasterRequest](&pb.RotateMasterResponse{ActiveKeyId: "k2", Rewrapped: 3, Unchanged: 1}, nil))
	r := e.run(t, "", "credentials", "rotate-master")
	assertCode(t, r, ExitOK)
	assertContains(t, "stdout", r.stdout, `Re-wrapped 3 data key(s) under master key "k2"; 1 already used it.`)
	rec.only(t)

	r = e.run(t, "", "credentials", "rotate-master", "-o", "json")
	assertCode(t, r, ExitOK)
	assertContains(t, "stdout", r.stdout, `"active_key_id": "k2"`, `"rewrapped": 3`)
}

func TestGenMasterKey(t *testing.T) {
	entry := regexp.MustCompile(`^([A-Za-z0-9._-]+):([A-Za-z0-9+/=]+)\n$`)
	seen := map[string]bool{}
	for _, args := range [][]string{{}, {"--id", "prod-2025.03"}} {
		// Offline: the NATS URL points nowhere and must not matter.
		r := runSyctl(t, "", append([]string{"--nats-url", "nats://127.0.0.1:1", "credentials", "gen-master-key"}, args...)...)
		assertCode(t, r, ExitOK)
		m := entry.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("output %q is not <id>:<base64>", r.stdout)
		}
		if len(args) > 0 && m[1] != args[1] {
			t.Errorf("id = %q, want %q", m[1], args[1])
		}
		key, err := base64.StdEncoding.DecodeString(m[2])
		if err != nil || len(key) != masterKeySize {
			t.Errorf("key decodes to %d bytes (err %v), want %d", len(key), err, masterKeySize)
		}
		if seen[m[2]] {
			t.Error("two runs printed the same key")
		}
		seen[m[2]] = true
	}
	r := runSyctl(t, "", "credentials", "gen-master-key", "--id", "bad id!")
	assertCode(t, r, ExitUsage)
	assertContains(t, "stderr", r.stderr, "1-64 characters")
}
