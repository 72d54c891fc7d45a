package keystransport

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/keysendpoint"
)

// TestAdminSubjects drives create, list, update and revoke over NATS, as
// syctl and `nats req` do, and checks that errors keep their code and
// field across the hop.
func TestAdminSubjects(t *testing.T) {
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "router")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, _ := jetstream.New(nc)
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	store, err := keys.OpenStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ms, err := Serve(nc, keysendpoint.New(keys.NewAdmin(store, &keys.Cache{}, log), log), "1.0.0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ms.Stop() }()
	client := natsx.TestConn(t, ns, "syctl")

	var created pb.CreateKeyResponse
	if err := natsrpc.Call(ctx, client, contract.SubjKeysCreate, &pb.CreateKeyRequest{Owner: "a@x.example"}, &created); err != nil {
		t.Fatal(err)
	}
	if len(created.GetKey()) != keys.KeyLen || created.GetRecord().GetId() == "" {
		t.Fatalf("create reply %v", &created)
	}
	id := created.GetRecord().GetId()
	var updated pb.UpdateKeyResponse
	if err := natsrpc.Call(ctx, client, contract.SubjKeysUpdate, &pb.UpdateKeyRequest{Id: id, Groups: []string{"g"}}, &updated); err != nil ||
		len(updated.GetRecord().GetGroups()) != 1 {
		t.Fatalf("update = %v, %v", &updated, err)
	}
	var revoked pb.RevokeKeyResponse
	if err := natsrpc.Call(ctx, client, contract.SubjKeysRevoke, &pb.RevokeKeyRequest{Id: id}, &revoked); err != nil || !revoked.GetRecord().GetRevoked() {
		t.Fatalf("revoke = %v, %v", &revoked, err)
	}
	var list pb.ListKeysResponse
	if err := natsrpc.Call(ctx, client, contract.SubjKeysList, &pb.ListKeysRequest{}, &list); err != nil ||
		len(list.GetKeys()) != 1 || !list.GetKeys()[0].GetRevoked() || list.GetKeys()[0].GetHash() != "" {
		t.Fatalf("list = %v, %v", &list, err)
	}

	err = natsrpc.Call(ctx, client, contract.SubjKeysCreate, &pb.CreateKeyRequest{}, &created)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.InvalidArgument || ae.Field != "owner" {
		t.Fatalf("create without owner = %v; want invalid_argument on owner", err)
	}
}
