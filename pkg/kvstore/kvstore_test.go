package kvstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

func TestBucketLifecycle(t *testing.T) {
	ns := natsx.StartTestServer(t)
	js, err := natsx.JetStream(natsx.TestConn(t, ns, "kvstore-test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, js, contract.BucketServices, "service", func() *pb.Service { return &pb.Service{} })
	if err != nil {
		t.Fatal(err)
	}
	if l, err := b.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("empty list = %v, %v", l, err)
	}
	name := "meta/llama.3:8b" // escaped into one key segment
	if err := b.Create(ctx, name, &pb.Service{Name: name, Model: "m1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, name, &pb.Service{Name: name}); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	got, rev, err := b.Get(ctx, name)
	if err != nil || got.GetModel() != "m1" {
		t.Fatalf("get: %v %v", got, err)
	}
	if err := b.Update(ctx, name, &pb.Service{Name: name, Model: "m2"}, rev); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(ctx, name, &pb.Service{Name: name, Model: "m3"}, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if l, err := b.List(ctx); err != nil || len(l) != 1 || l[0].GetModel() != "m2" {
		t.Fatalf("list = %v, %v", l, err)
	}
	if err := b.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := b.Delete(ctx, name); err != nil {
		t.Fatalf("deleting an absent name: %v", err)
	}
}
