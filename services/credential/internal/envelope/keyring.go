package envelope

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/switchyard/switchyard/pkg/secret"
)

// Master key configuration.
//
// Both sources hold one or more entries, separated by commas or newlines:
//
//	<key id>:<base64 of exactly 32 random bytes>
//
// The FIRST entry is the active key: Seal and Rewrap use it. The others are
// kept only so records sealed under them still open; drop one once
// `syctl credentials rotate-master` has rewrapped every record. In a file,
// blank lines and lines starting with '#' are ignored. A single entry may
// omit "<key id>:", in which case its id is DefaultKeyID.
//
// Rotation: generate a key (GenerateKeyEntry or `openssl rand -base64 32`),
// put it first ("k2:NEW,k1:OLD"), roll the credential service, run
// rotate-master, then remove "k1:OLD".
//
// Key ids: 1–64 characters from A–Z a–z 0–9 . _ -. Key ids are stored in
// every record and are not secret; key bytes never appear in errors.
const (
	// EnvMasterKeys holds the entries themselves.
	EnvMasterKeys = "SY_MASTER_KEYS"
	// EnvMasterKeysFile names a file holding the entries (for example a
	// mounted Kubernetes Secret). It wins over EnvMasterKeys; setting both is
	// refused as ambiguous.
	EnvMasterKeysFile = "SY_MASTER_KEYS_FILE"
	// DefaultKeyID is the id of an entry written without one.
	DefaultKeyID = "default"
	// MasterKeySize is the required master key length in bytes (AES-256).
	MasterKeySize = 32
)

const howToGenerate = "generate one with: openssl rand -base64 32"

// Errors from loading master keys. Messages say what to do, never what the
// key bytes were.
var (
	ErrNoMasterKey      = errors.New("envelope: no master key configured")
	ErrInvalidMasterKey = errors.New("envelope: invalid master key")
)

// MasterKey is one key-encryption key. It keeps only a GCM instance, hidden
// in a closure so that printing a MasterKey (or anything holding one) with
// fmt cannot reach the expanded key schedule.
type MasterKey struct {
	id   string
	aead func() cipher.AEAD
}

// NewMasterKey checks the id and key length. The key bytes are copied into
// the cipher; the caller may clear its slice afterwards.
func NewMasterKey(id string, key []byte) (MasterKey, error) {
	if err := validateKeyID(id); err != nil {
		return MasterKey{}, fmt.Errorf("%w: %v", ErrInvalidMasterKey, err)
	}
	if len(key) != MasterKeySize {
		return MasterKey{}, fmt.Errorf("%w: master key %q is %d bytes; AES-256 needs exactly %d (%s)",
			ErrInvalidMasterKey, id, len(key), MasterKeySize, howToGenerate)
	}
	aead, err := newGCM(key)
	if err != nil {
		return MasterKey{}, err
	}
	return MasterKey{id: id, aead: func() cipher.AEAD { return aead }}, nil
}

// ID returns the key id stored in records sealed with this key.
func (m MasterKey) ID() string { return m.id }

// String shows only the id.
func (m MasterKey) String() string { return "envelope.MasterKey(" + m.id + ")" }

// GoString shows only the id.
func (m MasterKey) GoString() string { return m.String() }

func (m MasterKey) seal(dataKey []byte) (nonce, wrapped []byte, err error) {
	return sealWith(m.aead(), dataKey, wrapAAD(m.id))
}

func (m MasterKey) open(nonce, wrapped []byte) ([]byte, error) {
	return m.aead().Open(nil, nonce, wrapped, wrapAAD(m.id))
}

// Keyring is one active master key plus older keys kept for decryption.
// It is immutable and safe for concurrent use; to rotate, build a new one.
type Keyring struct {
	keys []MasterKey // keys[0] is active
}

// NewKeyring returns a keyring whose active key is active. Duplicate ids are
// refused.
func NewKeyring(active MasterKey, older ...MasterKey) (*Keyring, error) {
	keys := append([]MasterKey{active}, older...)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k.aead == nil {
			return nil, fmt.Errorf("%w: zero MasterKey; build keys with NewMasterKey", ErrInvalidMasterKey)
		}
		if seen[k.id] {
			return nil, fmt.Errorf("%w: key id %q appears twice", ErrInvalidMasterKey, k.id)
		}
		seen[k.id] = true
	}
	return &Keyring{keys: keys}, nil
}

// ActiveID returns the id of the key new records are sealed with.
func (k *Keyring) ActiveID() string { return k.keys[0].id }

// IDs returns every key id, the active one first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return ids
}

// Has reports whether the keyring can open records sealed under id.
func (k *Keyring) Has(id string) bool {
	_, ok := k.lookup(id)
	return ok
}

// String shows only the key ids.
func (k *Keyring) String() string {
	return fmt.Sprintf("envelope.Keyring(active=%s, ids=%v)", k.ActiveID(), k.IDs())
}

func (k *Keyring) active() MasterKey { return k.keys[0] }

func (k *Keyring) lookup(id string) (MasterKey, bool) {
	for _, key := range k.keys {
		if key.id == id {
			return key, true
		}
	}
	return MasterKey{}, false
}

// ParseKeyring reads entries in the format described at EnvMasterKeys.
func ParseKeyring(text string) (*Keyring, error) {
	entries := splitEntries(text)
	if len(entries) == 0 {
		return nil, noKeyError()
	}
	keys := make([]MasterKey, 0, len(entries))
	for i, entry := range entries {
		key, err := parseEntry(i+1, entry)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return NewKeyring(keys[0], keys[1:]...)
}

// LoadKeyringFile reads entries from a file (for example a mounted
// Kubernetes Secret).
func LoadKeyringFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: reading master key file: %w; mount the key file at %s or set %s instead",
			ErrNoMasterKey, err, path, EnvMasterKeys)
	}
	defer clear(data)
	kr, err := ParseKeyring(string(data))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return kr, nil
}

// LoadKeyring reads EnvMasterKeysFile or EnvMasterKeys through getenv
// (os.Getenv in production, a map lookup in tests).
func LoadKeyring(getenv func(string) string) (*Keyring, error) {
	path, inline := getenv(EnvMasterKeysFile), getenv(EnvMasterKeys)
	switch {
	case path != "" && inline != "":
		return nil, fmt.Errorf("%w: both %s and %s are set; set only one", ErrInvalidMasterKey, EnvMasterKeysFile, EnvMasterKeys)
	case path != "":
		return LoadKeyringFile(path)
	case inline != "":
		kr, err := ParseKeyring(inline)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMasterKeys, err)
		}
		return kr, nil
	}
	return nil, noKeyError()
}

// GenerateKeyEntry returns a new random master key as an "<id>:<base64>"
// entry, ready to prepend to EnvMasterKeys. For development and for
// `syctl credentials gen-master-key`; it is a Secret so it is not printed by
// accident.
func GenerateKeyEntry(id string) (secret.Secret, error) {
	if err := validateKeyID(id); err != nil {
		return secret.Secret{}, fmt.Errorf("%w: %v", ErrInvalidMasterKey, err)
	}
	key := make([]byte, MasterKeySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return secret.Secret{}, fmt.Errorf("envelope: generating master key: %w", err)
	}
	return secret.New(id + ":" + base64.StdEncoding.EncodeToString(key)), nil
}

func noKeyError() error {
	return fmt.Errorf(`%w: set %s="<key id>:<base64 of 32 random bytes>" (%s), or set %s to a file holding such entries`,
		ErrNoMasterKey, EnvMasterKeys, howToGenerate, EnvMasterKeysFile)
}

func splitEntries(text string) []string {
	var entries []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			if entry = strings.TrimSpace(entry); entry != "" {
				entries = append(entries, entry)
			}
		}
	}
	return entries
}

// parseEntry decodes one "<id>:<base64>" entry. Errors name the entry by
// position and id, never by content.
func parseEntry(position int, entry string) (MasterKey, error) {
	id, encoded, found := strings.Cut(entry, ":")
	if !found {
		id, encoded = DefaultKeyID, entry
	}
	id = strings.TrimSpace(id)
	if err := validateKeyID(id); err != nil {
		return MasterKey{}, fmt.Errorf("%w: entry %d: %v", ErrInvalidMasterKey, position, err)
	}
	key, err := decodeKey(strings.TrimSpace(encoded))
	if err != nil {
		return MasterKey{}, fmt.Errorf("%w: entry %d (key id %q) is not valid base64; expected <key id>:<base64 of %d bytes> (%s)",
			ErrInvalidMasterKey, position, id, MasterKeySize, howToGenerate)
	}
	defer clear(key)
	return NewMasterKey(id, key)
}

// decodeKey accepts standard or URL-safe base64, padded or not, since both
// come out of common tools.
func decodeKey(encoded string) ([]byte, error) {
	var lastErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(encoded)
		if err == nil {
			return key, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func validateKeyID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("key id must be 1 to 64 characters, got %d", len(id))
	}
	for _, c := range id {
		if !isKeyIDChar(c) {
			return fmt.Errorf("key id %q may contain only letters, digits, '.', '_' and '-'", id)
		}
	}
	return nil
}

func isKeyIDChar(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}
