package envelope

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/secret"
)

var (
	keyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA1}, 32))
	keyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xB2}, 32))
)

func TestParseKeyring(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		wantActive string
		wantIDs    []string
	}{
		{"single entry", "k1:" + keyA, "k1", []string{"k1"}},
		{"bare key", keyA, DefaultKeyID, []string{DefaultKeyID}},
		{"comma list, first active", "k2:" + keyB + ",k1:" + keyA, "k2", []string{"k2", "k1"}},
		{"spaces around", "  k2 : " + keyB + " , k1:" + keyA + "\n", "k2", []string{"k2", "k1"}},
		{"file with comments", "# rotated 2026-05\nk2:" + keyB + "\n\n# old\nk1:" + keyA + "\n", "k2", []string{"k2", "k1"}},
		{"url-safe unpadded", "k1:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 32)), "k1", []string{"k1"}},
		{"new key before bare default", "k2:" + keyB + "," + keyA, "k2", []string{"k2", DefaultKeyID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if kr.ActiveID() != tt.wantActive || fmt.Sprint(kr.IDs()) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("active %q ids %v, want %q %v", kr.ActiveID(), kr.IDs(), tt.wantActive, tt.wantIDs)
			}
		})
	}
}

func TestParseKeyringErrors(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xC3}, 16))
	tests := []struct {
		name     string
		text     string
		wantErr  error
		wantText []string
	}{
		{"empty", "", ErrNoMasterKey, []string{EnvMasterKeys, "openssl rand -base64 32", EnvMasterKeysFile}},
		{"only comments", "# nothing\n", ErrNoMasterKey, []string{EnvMasterKeys}},
		{"short key", "k1:" + short, ErrInvalidMasterKey, []string{`"k1"`, "16 bytes", "exactly 32", "openssl rand"}},
		{"long key", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 48)), ErrInvalidMasterKey, []string{"48 bytes"}},
		{"not base64", "k1:not*base64!", ErrInvalidMasterKey, []string{"entry 1", "not valid base64"}},
		{"bad id", "bad id:" + keyA, ErrInvalidMasterKey, []string{"entry 1", "letters, digits"}},
		{"empty id", ":" + keyA, ErrInvalidMasterKey, []string{"1 to 64"}},
		{"duplicate id", "k1:" + keyA + ",k1:" + keyB, ErrInvalidMasterKey, []string{`"k1" appears twice`}},
		{"two bare keys", keyA + "," + keyB, ErrInvalidMasterKey, []string{"appears twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyring(tt.text)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q should contain %q", err, want)
				}
			}
			for _, material := range []string{keyA, keyB, short, "not*base64"} {
				if strings.Contains(err.Error(), material) {
					t.Errorf("error leaks key material: %q", err)
				}
			}
		})
	}
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "master-keys")
	if err := os.WriteFile(file, []byte("k9:"+keyB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		wantActive string
		wantErr    error
	}{
		{"inline", map[string]string{EnvMasterKeys: "k1:" + keyA}, "k1", nil},
		{"file", map[string]string{EnvMasterKeysFile: file}, "k9", nil},
		{"both set", map[string]string{EnvMasterKeysFile: file, EnvMasterKeys: "k1:" + keyA}, "", ErrInvalidMasterKey},
		{"nothing set", map[string]string{}, "", ErrNoMasterKey},
		{"missing file", map[string]string{EnvMasterKeysFile: filepath.Join(dir, "absent")}, "", ErrNoMasterKey},
		{"short inline", map[string]string{EnvMasterKeys: "k1:AAAA"}, "", ErrInvalidMasterKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := LoadKeyring(func(name string) string { return tt.env[name] })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && kr.ActiveID() != tt.wantActive {
				t.Errorf("active = %q, want %q", kr.ActiveID(), tt.wantActive)
			}
		})
	}
}

func TestGenerateKeyEntry(t *testing.T) {
	entry, err := GenerateKeyEntry("dev-2026")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(entry) != secret.Redacted {
		t.Error("generated entry must print redacted")
	}
	kr, err := ParseKeyring(entry.Reveal())
	if err != nil {
		t.Fatalf("generated entry does not parse: %v", err)
	}
	if kr.ActiveID() != "dev-2026" {
		t.Errorf("active = %q", kr.ActiveID())
	}
	other, _ := GenerateKeyEntry("dev-2026")
	if other.Equal(entry) {
		t.Error("two generated keys are equal")
	}
	if _, err := GenerateKeyEntry("no spaces allowed"); !errors.Is(err, ErrInvalidMasterKey) {
		t.Errorf("bad id: err = %v", err)
	}
}

func TestNewKeyringRefusesZeroKey(t *testing.T) {
	if _, err := NewKeyring(MasterKey{}); !errors.Is(err, ErrInvalidMasterKey) {
		t.Errorf("err = %v, want ErrInvalidMasterKey", err)
	}
}

func TestKeyringPrintsOnlyIDs(t *testing.T) {
	kr, err := ParseKeyring("k2:" + keyB + ",k1:" + keyA)
	if err != nil {
		t.Fatal(err)
	}
	if !kr.Has("k1") || kr.Has("k3") {
		t.Error("Has is wrong")
	}
	want := "envelope.Keyring(active=k2, ids=[k2 k1])"
	if got := fmt.Sprint(kr); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	type holder struct{ kr Keyring }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, holder{*kr})
		if strings.Contains(out, "a1a1a1a1") || strings.Contains(out, "b2b2b2b2") || strings.Contains(out, "0xa1, 0xa1") || strings.Contains(out, "161 161 161") {
			t.Errorf("%s of a struct holding a Keyring shows key bytes: %s", verb, out)
		}
	}
}
