package keys

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// replica is one router's view of sy_keys: its own NATS connection,
// watcher, snapshot, authenticator and admin service.
type replica struct {
	cache Cache
	auth  *Authenticator
	admin *Admin
}

// kvEnv is a real nats-server with the topology, one registered service
// ("svc-a") and two router replicas watching sy_keys.
type kvEnv struct {
	js       jetstream.JetStream
	replicas [2]*replica
}

func newKVEnv(t *testing.T) *kvEnv {
	t.Helper()
	ns := natsx.StartTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	env := &kvEnv{}
	for i := range env.replicas {
		nc := natsx.TestConn(t, ns, "router")
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			env.js = js
			env.setup(ctx, t)
		}
		env.replicas[i] = startReplica(ctx, t, js)
	}
	return env
}

func (env *kvEnv) setup(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := contract.EnsureTopology(ctx, env.js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	kv, err := env.js.KeyValue(ctx, contract.BucketServices)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := proto.Marshal(&pb.Service{Name: "svc-a", Model: "gpt-4o"})
	if _, err := kv.Put(ctx, contract.Key("svc-a"), data); err != nil {
		t.Fatal(err)
	}
}

func startReplica(ctx context.Context, t *testing.T, js jetstream.JetStream) *replica {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	r := &replica{}
	store, err := OpenStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	r.auth = NewAuthenticator(DefaultConfig(), &r.cache, log)
	r.admin = NewAdmin(store, &r.cache, log)
	ready := make(chan struct{})
	go func() { _ = NewWatcher(&r.cache, js, log).Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("watcher never became ready")
	}
	return r
}

// within polls cond until it holds or the bound passes, and returns how
// long it took.
func within(t *testing.T, bound time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

func bearer(key string) *http.Request {
	return request("192.0.2.10:5555", "Authorization", "Bearer "+key)
}

// TestRevokeAndUpdateReachEveryReplica creates a key through one replica,
// updates it through the other and revokes it, and checks that each
// change is enforced by both replicas' snapshots within 1 s.
func TestRevokeAndUpdateReachEveryReplica(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	a, b := env.replicas[0], env.replicas[1]
	created, err := a.admin.Create(ctx, &pb.CreateKeyRequest{Owner: "ana@lab.example", AllowedModels: []string{"gpt-4o"}})
	if err != nil {
		t.Fatal(err)
	}
	key, id := created.GetKey(), created.GetRecord().GetId()
	for i, r := range env.replicas {
		took := within(t, time.Second, "created key visible", func() bool { _, err := r.auth.Authenticate(bearer(key)); return err == nil })
		t.Logf("replica %d sees the new key after %s", i, took)
	}

	if _, err := b.admin.Update(ctx, &pb.UpdateKeyRequest{Id: id, AllowedModels: []string{"gpt-4o-mini"}}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "update visible at the other replica", func() bool {
		p, err := a.auth.Authenticate(bearer(key))
		return err == nil && p.AllowsModel("gpt-4o") != nil && p.AllowsModel("gpt-4o-mini") == nil
	})

	if _, err := b.admin.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	for i, r := range env.replicas {
		took := within(t, time.Second, "revoke enforced", func() bool {
			_, err := r.auth.Authenticate(bearer(key))
			return errors.Is(err, ErrInvalidKey)
		})
		t.Logf("replica %d refuses the revoked key after %s", i, took)
	}
	again, err := a.admin.Revoke(ctx, id)
	if err != nil || !again.GetRevoked() {
		t.Fatalf("second revoke = %v, %v; want the revoked record", again, err)
	}
}

// TestStoredFormIsHashOnly checks decision 6: sy_keys holds the key's
// SHA-256 as the KV key and a binary ConsumerKey with the display prefix,
// and no byte of the key's secret part anywhere; the admin answers carry
// neither the key (after creation) nor the digest.
func TestStoredFormIsHashOnly(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	created, err := env.replicas[0].admin.Create(ctx, &pb.CreateKeyRequest{Owner: "ana@lab.example"})
	if err != nil {
		t.Fatal(err)
	}
	key := created.GetKey()
	if !wellFormed(key) || created.GetRecord().GetPrefix() != key[:displayLen] || created.GetRecord().GetHash() != "" {
		t.Fatalf("created %q with record %v", key, created.GetRecord())
	}
	kv, _ := env.js.KeyValue(ctx, contract.BucketKeys)
	e, err := kv.Get(ctx, HashKey(key).Hex())
	if err != nil {
		t.Fatalf("no record under the key's SHA-256: %v", err)
	}
	var rec pb.ConsumerKey
	if err := proto.Unmarshal(e.Value(), &rec); err != nil || rec.GetPrefix() != key[:displayLen] {
		t.Fatalf("stored record %v: %v", &rec, err)
	}
	if bytes.Contains(e.Value(), []byte(key[displayLen:])) {
		t.Fatal("the stored record contains the key")
	}
	list, err := env.replicas[1].admin.List(ctx, "")
	if err != nil || len(list) != 1 || list[0].GetHash() != "" || list[0].GetPrefix() != key[:displayLen] {
		t.Fatalf("List = %v, %v; want one record with the prefix and no digest", list, err)
	}
}

func TestListFiltersByOwner(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	admin := env.replicas[0].admin
	for _, owner := range []string{"a@x.example", "b@x.example", "a@x.example"} {
		if _, err := admin.Create(ctx, &pb.CreateKeyRequest{Owner: owner}); err != nil {
			t.Fatal(err)
		}
	}
	for owner, want := range map[string]int{"": 3, "a@x.example": 2, "b@x.example": 1, "c@x.example": 0} {
		got, err := admin.List(ctx, owner)
		if err != nil || len(got) != want {
			t.Errorf("List(%q) = %d records, %v; want %d", owner, len(got), err, want)
		}
	}
}

// TestRevokeThroughAReplicaThatHasNotSeenTheKey covers the race of an
// operator revoking a key right after creating it, the two requests
// landing on different replicas: the id is found by a bucket scan.
func TestRevokeThroughAReplicaThatHasNotSeenTheKey(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	created, err := env.replicas[0].admin.Create(ctx, &pb.CreateKeyRequest{Owner: "a@x.example"})
	if err != nil {
		t.Fatal(err)
	}
	store, _ := OpenStore(ctx, env.js)
	blind := NewAdmin(store, &Cache{}, slog.New(slog.DiscardHandler)) // an empty snapshot
	rec, err := blind.Revoke(ctx, created.GetRecord().GetId())
	if err != nil || !rec.GetRevoked() {
		t.Fatalf("Revoke = %v, %v", rec, err)
	}
}

func TestAdminRefusals(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	admin := env.replicas[0].admin
	live, err := admin.Create(ctx, &pb.CreateKeyRequest{Owner: "a@x.example"})
	if err != nil {
		t.Fatal(err)
	}
	revoked, _ := admin.Create(ctx, &pb.CreateKeyRequest{Owner: "a@x.example"})
	if _, err := admin.Revoke(ctx, revoked.GetRecord().GetId()); err != nil {
		t.Fatal(err)
	}
	past := timestamppb.New(time.Now().Add(-time.Hour))
	cases := []struct {
		name  string
		call  func() error
		code  apierr.Code
		field string
	}{
		{"no owner", create(admin, &pb.CreateKeyRequest{}), apierr.InvalidArgument, fieldOwner},
		{"owner with a space", create(admin, &pb.CreateKeyRequest{Owner: "a b"}), apierr.InvalidArgument, fieldOwner},
		{"email without domain", create(admin, &pb.CreateKeyRequest{Owner: "a@"}), apierr.InvalidArgument, fieldOwner},
		{"unknown service", create(admin, &pb.CreateKeyRequest{Owner: "a", AllowedServices: []string{"svc-a", "nope"}}), apierr.InvalidArgument, fieldAllowedServices},
		{"wildcard model", create(admin, &pb.CreateKeyRequest{Owner: "a", AllowedModels: []string{"*"}}), apierr.InvalidArgument, fieldAllowedModels},
		{"bad group", create(admin, &pb.CreateKeyRequest{Owner: "a", Groups: []string{"a b"}}), apierr.InvalidArgument, fieldGroups},
		{"negative limit", create(admin, &pb.CreateKeyRequest{Owner: "a", Limits: &pb.Limits{Rpm: -1}}), apierr.InvalidArgument, fieldLimits},
		{"past expiry", create(admin, &pb.CreateKeyRequest{Owner: "a", ExpiresAt: past}), apierr.InvalidArgument, fieldExpiresAt},
		{"unknown id", update(admin, &pb.UpdateKeyRequest{Id: "key_nope", Groups: []string{"g"}}), apierr.NotFound, ""},
		{"revoke unknown id", func() error { _, err := admin.Revoke(ctx, "key_nope"); return err }, apierr.NotFound, ""},
		{"empty update", update(admin, &pb.UpdateKeyRequest{Id: live.GetRecord().GetId()}), apierr.InvalidArgument, "update_mask"},
		{"owner in mask", update(admin, &pb.UpdateKeyRequest{Id: live.GetRecord().GetId(), UpdateMask: []string{"owner"}}), apierr.InvalidArgument, "update_mask"},
		{"update revoked", update(admin, &pb.UpdateKeyRequest{Id: revoked.GetRecord().GetId(), Groups: []string{"g"}}), apierr.FailedPrecondition, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != tc.code || ae.Field != tc.field {
				t.Fatalf("err = %v; want %s on %q", err, tc.code, tc.field)
			}
		})
	}
	if list, _ := admin.List(ctx, ""); len(list) != 2 {
		t.Fatalf("refused creations left records: %d keys", len(list))
	}
}

func TestUpdateMaskClearsAndSets(t *testing.T) {
	env := newKVEnv(t)
	ctx := context.Background()
	admin := env.replicas[0].admin
	created, err := admin.Create(ctx, &pb.CreateKeyRequest{Owner: "a@x.example", Groups: []string{"g1"},
		AllowedServices: []string{"svc-a"}, Limits: &pb.Limits{Rpm: 10}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetRecord().GetId()
	rec, err := admin.Update(ctx, &pb.UpdateKeyRequest{Id: id, UpdateMask: []string{fieldAllowedServices, fieldLimits},
		Limits: &pb.Limits{Tpm: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.GetAllowedServices()) != 0 || rec.GetLimits().GetTpm() != 500 || rec.GetLimits().GetRpm() != 0 ||
		len(rec.GetGroups()) != 1 || rec.GetOwner() != "a@x.example" {
		t.Fatalf("updated record %v", rec)
	}
}

func create(a *Admin, req *pb.CreateKeyRequest) func() error {
	return func() error { _, err := a.Create(context.Background(), req); return err }
}

func update(a *Admin, req *pb.UpdateKeyRequest) func() error {
	return func() error { _, err := a.Update(context.Background(), req); return err }
}
