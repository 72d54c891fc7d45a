package syctl

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestKeysCreateSendsTheRequestAndShowsTheKeyOnce(t *testing.T) {
	e := newTestEnv(t)
	rec := &pb.ConsumerKey{Id: "key_abc", Prefix: "sy-AbCdEfG", Owner: "ana@lab.example", Groups: []string{"research"},
		Limits: &pb.Limits{Rpm: 60}}
	got := serveFake(t, e, contract.SubjKeysCreate, func() *pb.CreateKeyRequest { return &pb.CreateKeyRequest{} },
		replyWith[*pb.CreateKeyRequest](&pb.CreateKeyResponse{Key: "sy-AbCdEfGsecret", Record: rec}, nil))
	r := e.run(t, "", "keys", "create", "--owner", "ana@lab.example", "--group", "research", "--model", "a,b",
		"--service", "svc", "--rpm", "60", "--model-limit", "org/model=1/2", "--expires", "2031-01-02T03:04:05Z")
	assertCode(t, r, ExitOK)
	assertProto(t, "request", &pb.CreateKeyRequest{Owner: "ana@lab.example", Groups: []string{"research"},
		AllowedModels: []string{"a", "b"}, AllowedServices: []string{"svc"}, Limits: &pb.Limits{Rpm: 60},
		ModelLimits: map[string]*pb.Limits{"org/model": {Rpm: 1, Tpm: 2}},
		ExpiresAt:   timestamppb.New(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))}, got.only(t))
	assertContains(t, "stdout", r.stdout, "key_abc", "sy-AbCdEfGsecret", "60 rpm", "research")
	assertContains(t, "stderr", r.stderr, "only time the key is shown")
	if strings.Count(r.all(), "sy-AbCdEfGsecret") != 1 {
		t.Errorf("the key is printed more than once:\n%s", r.all())
	}
}

func TestKeysListTableAndJSON(t *testing.T) {
	e := newTestEnv(t)
	keys := []*pb.ConsumerKey{
		{Id: "key_1", Prefix: "sy-1111111", Owner: "a@x.example", Revoked: true},
		{Id: "key_2", Prefix: "sy-2222222", Owner: "b@x.example", ExpiresAt: timestamppb.New(time.Unix(1, 0)),
			ModelLimits: map[string]*pb.Limits{"m": {Tpm: 5}}},
	}
	serveFake(t, e, contract.SubjKeysList, func() *pb.ListKeysRequest { return &pb.ListKeysRequest{} },
		replyWith[*pb.ListKeysRequest](&pb.ListKeysResponse{Keys: keys}, nil))
	r := e.run(t, "", "keys", "list")
	assertCode(t, r, ExitOK)
	assertContains(t, "table", r.stdout, "PREFIX", "sy-1111111…", "revoked", "expired", "m: 5 tpm")
	r = e.run(t, "", "keys", "list", "-o", "json")
	assertCode(t, r, ExitOK)
	assertContains(t, "json", r.stdout, `"id": "key_2"`, `"revoked": true`)
}

func TestKeysUpdateMaskNamesTheGivenFlags(t *testing.T) {
	e := newTestEnv(t)
	got := serveFake(t, e, contract.SubjKeysUpdate, func() *pb.UpdateKeyRequest { return &pb.UpdateKeyRequest{} },
		replyWith[*pb.UpdateKeyRequest](&pb.UpdateKeyResponse{Record: &pb.ConsumerKey{Id: "key_1"}}, nil))
	r := e.run(t, "", "keys", "update", "key_1", "--model", "", "--expires", "never", "--tpm", "100")
	assertCode(t, r, ExitOK)
	assertProto(t, "request", &pb.UpdateKeyRequest{Id: "key_1", Limits: &pb.Limits{Tpm: 100},
		UpdateMask: []string{"allowed_models", "expires_at", "limits"}}, got.only(t))
}

func TestKeysUsageErrorsSendNothing(t *testing.T) {
	for _, args := range [][]string{
		{"keys", "create"},
		{"keys", "create", "--owner", "a", "--expires", "soon"},
		{"keys", "create", "--owner", "a", "--expires", "never"},
		{"keys", "create", "--owner", "a", "--model-limit", "gpt-4o=1"},
		{"keys", "create", "--owner", "a", "--rpm", "x"},
		{"keys", "update", "key_1"},
		{"keys", "revoke"},
	} {
		r := runSyctl(t, "", append([]string{"--nats-url", "nats://127.0.0.1:1"}, args...)...)
		if r.code != ExitUsage {
			t.Errorf("%v exited %d (%s); want a usage error before any request", args, r.code, r.stderr)
		}
	}
}

func TestKeysExpiresDuration(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{"30d": now.Add(30 * 24 * time.Hour), "90m": now.Add(90 * time.Minute)} {
		f := keysAllowanceFlags{expires: optString{value: in, set: true}}
		ts, never, err := f.expiry(now)
		if err != nil || never || !ts.AsTime().Equal(want) {
			t.Errorf("expiry(%q) = %v, %v, %v; want %v", in, ts.AsTime(), never, err, want)
		}
	}
}
