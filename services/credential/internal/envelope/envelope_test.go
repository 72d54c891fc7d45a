package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/secret"
)

const canary = "sk-canary-envelope-5c1d9e7a3b"

func testKey(t testing.TB, id string, fill byte) MasterKey {
	t.Helper()
	key, err := NewMasterKey(id, bytes.Repeat([]byte{fill}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func testKeyring(t testing.TB, keys ...MasterKey) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func sealCanary(t testing.TB, kr *Keyring, service string) Record {
	t.Helper()
	rec, err := Seal(kr, service, secret.New(canary))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestRoundTrip(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	for _, value := range []string{canary, "x", strings.Repeat("long-", 2000), ""} {
		rec, err := Seal(kr, "openai-gpt-4o-mini", secret.New(value))
		if err != nil {
			t.Fatal(err)
		}
		encoded, err := rec.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := Unmarshal(encoded)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(kr, "openai-gpt-4o-mini", decoded)
		if err != nil {
			t.Fatal(err)
		}
		if got.Reveal() != value {
			t.Errorf("round trip of a %d-byte value returned %d bytes", len(value), got.Len())
		}
		if rec.KeyID != "k1" || rec.Version != RecordVersion {
			t.Errorf("record header = %q v%d", rec.KeyID, rec.Version)
		}
	}
}

func TestSealUsesFreshDataKeyAndNonce(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	a, b := sealCanary(t, kr, "svc"), sealCanary(t, kr, "svc")
	if bytes.Equal(a.WrappedKey, b.WrappedKey) || bytes.Equal(a.Nonce, b.Nonce) || bytes.Equal(a.Ciphertext, b.Ciphertext) {
		t.Error("two seals of the same value share key, nonce or ciphertext")
	}
}

func TestAADBindsServiceName(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	rec := sealCanary(t, kr, "openai-prod")
	for _, other := range []string{"anthropic-prod", "openai-prod2", "openai-pro", "OPENAI-PROD"} {
		_, err := Open(kr, other, rec)
		if !errors.Is(err, ErrAuthentication) {
			t.Errorf("record moved to %q: err = %v, want ErrAuthentication", other, err)
		}
	}
	if _, err := Open(kr, "", rec); !errors.Is(err, ErrEmptyService) {
		t.Errorf("empty service: err = %v", err)
	}
	if _, err := Seal(kr, "", secret.New(canary)); !errors.Is(err, ErrEmptyService) {
		t.Errorf("Seal with empty service: err = %v", err)
	}
}

func TestTamperingDetected(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	tests := []struct {
		name   string
		tamper func(*Record)
	}{
		{"ciphertext bit", func(r *Record) { r.Ciphertext[0] ^= 1 }},
		{"ciphertext tag", func(r *Record) { r.Ciphertext[len(r.Ciphertext)-1] ^= 0x80 }},
		{"value nonce", func(r *Record) { r.Nonce[3] ^= 1 }},
		{"wrapped key", func(r *Record) { r.WrappedKey[5] ^= 1 }},
		{"wrap nonce", func(r *Record) { r.WrapNonce[11] ^= 1 }},
		{"swapped nonces", func(r *Record) { r.Nonce, r.WrapNonce = r.WrapNonce, r.Nonce }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sealCanary(t, kr, "svc").clone()
			tt.tamper(&rec)
			if _, err := Open(kr, "svc", rec); !errors.Is(err, ErrAuthentication) {
				t.Errorf("err = %v, want ErrAuthentication", err)
			}
		})
	}
}

func TestSplicedDataKeyFromAnotherRecordFails(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	a, b := sealCanary(t, kr, "svc"), sealCanary(t, kr, "svc")
	a.WrapNonce, a.WrappedKey = b.WrapNonce, b.WrappedKey
	if _, err := Open(kr, "svc", a); !errors.Is(err, ErrAuthentication) {
		t.Errorf("err = %v, want ErrAuthentication", err)
	}
}

func TestWrongKeyID(t *testing.T) {
	sealer := testKeyring(t, testKey(t, "k1", 1))
	rec := sealCanary(t, sealer, "svc")

	other := testKeyring(t, testKey(t, "k2", 2))
	_, err := Open(other, "svc", rec)
	if !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("err = %v, want ErrUnknownKeyID", err)
	}
	for _, want := range []string{`"k1"`, "k2", EnvMasterKeys} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should mention %s", err, want)
		}
	}

	sameIDOtherBytes := testKeyring(t, testKey(t, "k1", 9))
	if _, err := Open(sameIDOtherBytes, "svc", rec); !errors.Is(err, ErrAuthentication) {
		t.Errorf("same id, different key bytes: err = %v, want ErrAuthentication", err)
	}

	relabelled := rec.clone()
	relabelled.KeyID = "k2"
	both := testKeyring(t, testKey(t, "k2", 1), testKey(t, "k1", 1))
	if _, err := Open(both, "svc", relabelled); !errors.Is(err, ErrAuthentication) {
		t.Errorf("key id relabelled to an id with the same bytes: err = %v, want ErrAuthentication", err)
	}
}

func TestRewrapThenDropOldKey(t *testing.T) {
	oldKey, newKey := testKey(t, "k1", 1), testKey(t, "k2", 2)
	rec := sealCanary(t, testKeyring(t, oldKey), "svc")

	rotating := testKeyring(t, newKey, oldKey)
	rewrapped, err := Rewrap(rec, rotating)
	if err != nil {
		t.Fatal(err)
	}
	if rewrapped.KeyID != "k2" {
		t.Errorf("KeyID after rewrap = %q, want k2", rewrapped.KeyID)
	}
	if !bytes.Equal(rewrapped.Ciphertext, rec.Ciphertext) || !bytes.Equal(rewrapped.Nonce, rec.Nonce) {
		t.Error("rewrap changed the value's ciphertext or nonce")
	}

	onlyNew := testKeyring(t, newKey)
	got, err := Open(onlyNew, "svc", rewrapped)
	if err != nil || got.Reveal() != canary {
		t.Fatalf("open with only the new key: err = %v", err)
	}
	if _, err := Open(onlyNew, "svc", rec); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("the original record must no longer open without k1: err = %v", err)
	}

	again, err := Rewrap(rewrapped, onlyNew)
	if err != nil || !bytes.Equal(again.WrappedKey, rewrapped.WrappedKey) {
		t.Errorf("rewrap of a record already on the active key must be a no-op (err = %v)", err)
	}
	if _, err := Rewrap(rec, onlyNew); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("rewrap without the old key: err = %v, want ErrUnknownKeyID", err)
	}
}

func TestEncodedRecordHasNoPlaintext(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	rec := sealCanary(t, kr, "svc")
	encoded, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{
		canary, canary[len(canary)-8:],
		base64.StdEncoding.EncodeToString([]byte(canary)),
		base64.RawURLEncoding.EncodeToString([]byte(canary)),
		url.QueryEscape(canary), fmt.Sprintf("%x", canary),
	}
	printed := []string{string(encoded), fmt.Sprintf("%+v", rec), fmt.Sprintf("%#v", kr), fmt.Sprintf("%v", *kr)}
	for _, out := range printed {
		for _, form := range forms {
			if strings.Contains(out, form) {
				t.Errorf("found the canary (form %q) in %s", form, out)
			}
		}
	}
}

func TestMarshalIsStable(t *testing.T) {
	rec := Record{
		Version: 1, KeyID: "k1",
		WrapNonce: make([]byte, 12), WrappedKey: make([]byte, 48),
		Nonce: make([]byte, 12), Ciphertext: make([]byte, 16),
	}
	got, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"key_id":"k1","wrap_nonce":"AAAAAAAAAAAAAAAA","wrapped_key":"` +
		strings.Repeat("A", 64) + `","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"` + strings.Repeat("A", 22) + `=="}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestUnmarshalRefusesMalformed(t *testing.T) {
	kr := testKeyring(t, testKey(t, "k1", 1))
	good, _ := sealCanary(t, kr, "svc").Marshal()
	mutate := func(f func(map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct{ name, input string }{
		{"empty", ""},
		{"not json", "hello"},
		{"trailing data", string(good) + "{}"},
		{"unknown field", mutate(func(m map[string]any) { m["plaintext"] = "x" })},
		{"version 2", mutate(func(m map[string]any) { m["version"] = 2 })},
		{"no key id", mutate(func(m map[string]any) { delete(m, "key_id") })},
		{"bad key id", mutate(func(m map[string]any) { m["key_id"] = "a b" })},
		{"short nonce", mutate(func(m map[string]any) { m["nonce"] = "AAAA" })},
		{"short wrapped key", mutate(func(m map[string]any) { m["wrapped_key"] = "AAAA" })},
		{"short ciphertext", mutate(func(m map[string]any) { m["ciphertext"] = "AAAA" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Unmarshal([]byte(tt.input)); !errors.Is(err, ErrMalformedRecord) {
				t.Errorf("err = %v, want ErrMalformedRecord", err)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	kr := testKeyring(f, testKey(f, "k1", 1))
	good, _ := sealCanary(f, kr, "svc").Marshal()
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("decode error not classified: %v", err)
			}
			return
		}
		if _, err := rec.Marshal(); err != nil {
			t.Fatalf("a decoded record must re-encode: %v", err)
		}
		got, err := Open(kr, "svc", rec)
		sealedInCorpus := map[string]bool{canary: true, "": true, "x": true, "sk-ant-api03-abc": true}
		if err == nil && !sealedInCorpus[got.Reveal()] {
			t.Fatalf("a record opened to a value nobody sealed (%d bytes)", got.Len())
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	kr := testKeyring(b, testKey(b, "k1", 1))
	for b.Loop() {
		_ = sealCanary(b, kr, "svc")
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := testKeyring(b, testKey(b, "k1", 1))
	rec := sealCanary(b, kr, "svc")
	for b.Loop() {
		if _, err := Open(kr, "svc", rec); err != nil {
			b.Fatal(err)
		}
	}
}
