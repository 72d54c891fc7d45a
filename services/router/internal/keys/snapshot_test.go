package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestMint(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		m, err := Mint(nil)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(m.Key))
		switch {
		case !wellFormed(m.Key):
			t.Fatalf("minted %q is not well formed", m.Key)
		case m.Digest.Hex() != hex.EncodeToString(sum[:]):
			t.Fatalf("digest of %q is not its SHA-256", m.Prefix)
		case m.Prefix != m.Key[:displayLen]:
			t.Fatalf("prefix %q", m.Prefix)
		case seen[m.Key]:
			t.Fatal("a key was minted twice")
		}
		seen[m.Key] = true
	}
	// The smallest and largest 32-byte values keep the fixed length.
	for _, fill := range []byte{0x00, 0xff} {
		m, err := Mint(bytes.NewReader(bytes.Repeat([]byte{fill}, keyRandomBytes)))
		if err != nil || len(m.Key) != KeyLen || !wellFormed(m.Key) {
			t.Fatalf("Mint(%#x…) = %q, %v", fill, m.Key, err)
		}
	}
}

func TestParseDigestHex(t *testing.T) {
	m, _ := Mint(nil)
	for in, ok := range map[string]bool{m.Digest.Hex(): true, "abc": false, m.Digest.Hex()[:62] + "zz": false} {
		d, got := ParseDigestHex(in)
		if got != ok || (ok && d != m.Digest) {
			t.Errorf("ParseDigestHex(%q) = %v", in, got)
		}
	}
}

// TestSnapshotCopyOnWrite checks that a published snapshot never changes:
// readers holding it need no lock.
func TestSnapshotCopyOnWrite(t *testing.T) {
	a, b := mustMint(t), mustMint(t)
	recA := &pb.ConsumerKey{Id: "key_a", Hash: a.Digest.Hex()}
	old := NewSnapshot([]*pb.ConsumerKey{recA, {Id: "key_bad", Hash: "not-hex"}})
	if old.Len() != 1 {
		t.Fatalf("Len = %d; a record with a bad hash must be skipped", old.Len())
	}
	next := old.with(map[Digest]*pb.ConsumerKey{
		a.Digest: nil,
		b.Digest: {Id: "key_b", Hash: b.Digest.Hex()},
	})
	if _, ok := old.Lookup(a.Digest); !ok || old.Len() != 1 {
		t.Fatal("the old snapshot changed")
	}
	if _, ok := next.Lookup(a.Digest); ok {
		t.Fatal("deleted key still present")
	}
	if _, ok := next.ByID("key_a"); ok {
		t.Fatal("deleted key's id still present")
	}
	if d, ok := next.ByID("key_b"); !ok || d != b.Digest {
		t.Fatal("new key's id missing")
	}
	var c Cache
	if c.Load().Len() != 0 {
		t.Fatal("an unfilled cache must be empty, not nil")
	}
}

func mustMint(t *testing.T) Minted {
	t.Helper()
	m, err := Mint(nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
