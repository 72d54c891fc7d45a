package routes

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/credentialtest"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// TestKeyKeptWhileTheCredentialServiceIsSilent: a credential-changed
// event or an edit of the service record while the credential service
// does not answer keeps the route's working key (and retries until the
// new one arrives); an answer that the key is gone makes the route
// unusable with the reason.
func TestKeyKeptWhileTheCredentialServiceIsSilent(t *testing.T) {
	nc := natsx.TestConn(t, natsx.StartTestServer(t), "routes-test")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.EnsureTopology(context.Background(), js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	creds := credentialtest.Start(t, nc, "sk-old")
	services, err := js.KeyValue(context.Background(), contract.BucketServices)
	if err != nil {
		t.Fatal(err)
	}
	put := func(tags ...string) {
		t.Helper()
		data, err := proto.Marshal(&pb.Service{Name: "svc", Model: "m", BaseUrl: "http://127.0.0.1:1", Protocol: "OPENAI_V1",
			CredentialRef: "svc", Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := services.Put(context.Background(), contract.Key("svc"), data); err != nil {
			t.Fatal(err)
		}
	}
	put()
	var cache Cache
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(&cache, nc, js, Clients{}, slog.New(slog.DiscardHandler))
	go func() { _ = w.Run(ctx, func() {}) }()
	route := func() *Route {
		r, _ := cache.Load().ByName("svc")
		return r
	}
	waitFor := func(what string, cond func(r *Route) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for r := route(); r == nil || !cond(r); r = route() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15s (route %+v)", what, r)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hasKey := func(k string) func(*Route) bool {
		return func(r *Route) bool { return r.Usable() && r.Key.Reveal() == k }
	}
	waitFor("route with the first key", hasKey("sk-old"))

	creds.Stop() // silent: every resolve now gets no responders
	creds.SetKey("sk-new")
	if err := nc.Publish(contract.CredentialChanged("svc"), nil); err != nil {
		t.Fatal(err)
	}
	put("edited") // and the record is edited while it is away
	waitFor("the edited record in the table", func(r *Route) bool { return len(r.Service.GetTags()) == 1 })
	time.Sleep(200 * time.Millisecond) // both resolves have failed by now
	if r := route(); !hasKey("sk-old")(r) {
		t.Fatalf("while the credential service was silent the route became %+v (KeyErr %q); want the old key kept", r, r.KeyErr)
	}

	creds.Serve(t) // back: the retry brings the new key
	waitFor("the rotated key after the credential service returned", hasKey("sk-new"))

	creds.SetMissing(true) // an answer that the key is gone is a finding
	if err := nc.Publish(contract.CredentialChanged("svc"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor("route unusable with the reason", func(r *Route) bool { return !r.Usable() && r.KeyErr != "" })
}
