package credential

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/services/credential/internal/store"
)

// TestFileWatcherPublishesOnChange rotates a key file the way Kubernetes
// does (a new file renamed over the old path) and expects exactly one
// change event per real change, naming the credential and carrying no key.
func TestFileWatcherPublishesOnChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "filewatch-test")
	js, err := natsx.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.EnsureTopology(ctx, js, contract.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	kv, err := store.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan *nats.Msg, 10)
	sub, err := nc.ChanSubscribe(contract.SubjCredentialEvents, events)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	writeAtomically(t, path, "sk-old")
	if err := kv.Put(ctx, "svc~1", store.Record{Source: store.SourceFile, File: path}, 0); err != nil {
		t.Fatal(err)
	}
	w := NewFileWatcher(kv, js, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	go func() { _ = w.Run(ctx) }()

	expectNoEvent(t, events, 200*time.Millisecond) // unchanged file: silence
	writeAtomically(t, path, "sk-new")
	msg := expectEvent(t, events)
	if msg.Subject != contract.CredentialChanged("svc~1") || len(msg.Data) != 0 {
		t.Fatalf("event %q with %d bytes of data, want %q and none", msg.Subject, len(msg.Data), contract.CredentialChanged("svc~1"))
	}
	expectNoEvent(t, events, 200*time.Millisecond)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, events) // a vanished file is a change: the edge must learn the key is gone
}

func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func expectEvent(t *testing.T, ch <-chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no credential change event")
		return nil
	}
}

func expectNoEvent(t *testing.T, ch <-chan *nats.Msg, within time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected event %q", m.Subject)
	case <-time.After(within):
	}
}
