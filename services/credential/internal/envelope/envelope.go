// Package envelope encrypts provider credentials at rest with AES-256-GCM
// envelope encryption.
//
// Each Seal draws a fresh random 256-bit data key that encrypts the value;
// the data key itself is encrypted ("wrapped") by a master key named by a key
// id. Master keys live outside NATS (a file or an environment variable, see
// ParseKeyring); the Record stored in the credentials KV bucket holds only
// the key id, the wrapped data key, the nonces and the ciphertext.
//
// The value's ciphertext is bound to the credential's service name through
// GCM associated data, so a record copied under another service's key fails
// to open. The wrapped data key is bound to its key id, so Rewrap can move a
// record to a new master key (online rotation) without decrypting the value
// and without knowing which service it belongs to.
package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/switchyard/switchyard/pkg/secret"
)

// RecordVersion is the record layout Seal writes and Open accepts.
const RecordVersion = 1

const (
	dataKeySize = 32
	nonceSize   = 12 // the GCM standard nonce size
	tagSize     = 16
)

// Errors that callers branch on with errors.Is. Messages never contain key
// material or plaintext.
var (
	// ErrUnknownKeyID: the record was sealed under a master key that is not in
	// the keyring (removed too early, or the wrong key file was mounted).
	ErrUnknownKeyID = errors.New("envelope: record uses a master key that is not loaded")
	// ErrAuthentication: GCM authentication failed. The record was modified,
	// was moved from another service, or the master key with this id has
	// different bytes than the one that sealed it.
	ErrAuthentication = errors.New("envelope: record failed authentication")
	// ErrMalformedRecord: the record's structure is wrong (bad version,
	// sizes, missing fields).
	ErrMalformedRecord = errors.New("envelope: malformed record")
	// ErrEmptyService: associated data needs the service name.
	ErrEmptyService = errors.New("envelope: service name is required to bind the ciphertext")
)

// Record is one encrypted credential. It never holds plaintext or an
// unwrapped key, so it is safe to store, log and print.
type Record struct {
	Version    int    `json:"version"`
	KeyID      string `json:"key_id"`
	WrapNonce  []byte `json:"wrap_nonce"`
	WrappedKey []byte `json:"wrapped_key"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// Seal encrypts value for service under the keyring's active master key.
func Seal(keyring *Keyring, service string, value secret.Secret) (Record, error) {
	if service == "" {
		return Record{}, ErrEmptyService
	}
	if value.Len() > maxCiphertextSize {
		return Record{}, fmt.Errorf("envelope: credential value is %d bytes; the limit is %d", value.Len(), maxCiphertextSize)
	}
	master := keyring.active()
	dataKey := make([]byte, dataKeySize)
	defer clear(dataKey)
	if _, err := rand.Read(dataKey); err != nil {
		return Record{}, fmt.Errorf("envelope: generating data key: %w", err)
	}
	nonce, ciphertext, err := encrypt(dataKey, []byte(value.Reveal()), valueAAD(service))
	if err != nil {
		return Record{}, err
	}
	wrapNonce, wrapped, err := master.seal(dataKey)
	if err != nil {
		return Record{}, err
	}
	return Record{
		Version: RecordVersion, KeyID: master.id,
		WrapNonce: wrapNonce, WrappedKey: wrapped,
		Nonce: nonce, Ciphertext: ciphertext,
	}, nil
}

// Open decrypts a record that was sealed for service.
func Open(keyring *Keyring, service string, rec Record) (secret.Secret, error) {
	if service == "" {
		return secret.Secret{}, ErrEmptyService
	}
	if err := rec.Validate(); err != nil {
		return secret.Secret{}, err
	}
	dataKey, err := unwrap(keyring, rec)
	if err != nil {
		return secret.Secret{}, err
	}
	defer clear(dataKey)
	plaintext, err := decrypt(dataKey, rec.Nonce, rec.Ciphertext, valueAAD(service))
	if err != nil {
		return secret.Secret{}, fmt.Errorf("%w: the value does not belong to service %q or was modified", ErrAuthentication, service)
	}
	defer clear(plaintext)
	return secret.New(string(plaintext)), nil
}

// Rewrap re-encrypts the record's data key under the keyring's active master
// key. The value's nonce and ciphertext are kept byte for byte. A record
// already on the active key is returned unchanged (compare KeyID with
// Keyring.ActiveID to skip the write). The old master key must still be in
// the keyring; after every record is rewrapped it can be removed.
func Rewrap(rec Record, keyring *Keyring) (Record, error) {
	if err := rec.Validate(); err != nil {
		return Record{}, err
	}
	master := keyring.active()
	if rec.KeyID == master.id {
		return rec.clone(), nil
	}
	dataKey, err := unwrap(keyring, rec)
	if err != nil {
		return Record{}, err
	}
	defer clear(dataKey)
	wrapNonce, wrapped, err := master.seal(dataKey)
	if err != nil {
		return Record{}, err
	}
	out := rec.clone()
	out.KeyID, out.WrapNonce, out.WrappedKey = master.id, wrapNonce, wrapped
	return out, nil
}

func unwrap(keyring *Keyring, rec Record) ([]byte, error) {
	master, ok := keyring.lookup(rec.KeyID)
	if !ok {
		return nil, fmt.Errorf("%w: key id %q is not among the loaded master keys %v; add it to %s (keep an old key until `syctl credentials rotate-master` has rewrapped every record)",
			ErrUnknownKeyID, rec.KeyID, keyring.IDs(), EnvMasterKeys)
	}
	dataKey, err := master.open(rec.WrapNonce, rec.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("%w: the data key does not open with master key %q (modified record, or different key bytes under the same id)", ErrAuthentication, rec.KeyID)
	}
	return dataKey, nil
}

// valueAAD binds the value's ciphertext to the record layout and the service.
func valueAAD(service string) []byte {
	return fmt.Appendf(nil, "switchyard/credential/v%d/value\x00%s", RecordVersion, service)
}

// wrapAAD binds a wrapped data key to the master key id that wrapped it.
func wrapAAD(keyID string) []byte {
	return fmt.Appendf(nil, "switchyard/credential/v%d/data-key\x00%s", RecordVersion, keyID)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return cipher.NewGCM(block)
}

func encrypt(key, plaintext, aad []byte) (nonce, ciphertext []byte, err error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	return sealWith(aead, plaintext, aad)
}

func sealWith(aead cipher.AEAD, plaintext, aad []byte) (nonce, ciphertext []byte, err error) {
	nonce = make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, fmt.Errorf("envelope: generating nonce: %w", err)
	}
	return nonce, aead.Seal(nil, nonce, plaintext, aad), nil
}

func decrypt(key, nonce, ciphertext, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, nonce, ciphertext, aad)
}

// maxCiphertextSize caps a decoded record: provider keys are short, and a
// credentials KV value should never be large. 64 KiB leaves room for
// service-account JSON files.
const maxCiphertextSize = 64 << 10

// Validate checks the record's structure (not its authenticity, which only
// Open can prove).
func (r Record) Validate() error {
	switch {
	case r.Version != RecordVersion:
		return fmt.Errorf("%w: version %d, this build reads version %d", ErrMalformedRecord, r.Version, RecordVersion)
	case validateKeyID(r.KeyID) != nil:
		return fmt.Errorf("%w: %v", ErrMalformedRecord, validateKeyID(r.KeyID))
	case len(r.WrapNonce) != nonceSize || len(r.Nonce) != nonceSize:
		return fmt.Errorf("%w: nonces must be %d bytes", ErrMalformedRecord, nonceSize)
	case len(r.WrappedKey) != dataKeySize+tagSize:
		return fmt.Errorf("%w: wrapped data key must be %d bytes, got %d", ErrMalformedRecord, dataKeySize+tagSize, len(r.WrappedKey))
	case len(r.Ciphertext) < tagSize || len(r.Ciphertext) > maxCiphertextSize+tagSize:
		return fmt.Errorf("%w: ciphertext size %d is outside [%d, %d]", ErrMalformedRecord, len(r.Ciphertext), tagSize, maxCiphertextSize+tagSize)
	}
	return nil
}

func (r Record) clone() Record {
	r.WrapNonce = slices.Clone(r.WrapNonce)
	r.WrappedKey = slices.Clone(r.WrappedKey)
	r.Nonce = slices.Clone(r.Nonce)
	r.Ciphertext = slices.Clone(r.Ciphertext)
	return r
}

// Marshal encodes the record as the JSON stored in the credentials KV
// bucket. The encoding is stable: fields in declaration order, byte fields
// as standard padded base64, no whitespace. Example:
//
//	{"version":1,"key_id":"k2026","wrap_nonce":"…","wrapped_key":"…","nonce":"…","ciphertext":"…"}
func (r Record) Marshal() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// Unmarshal decodes and validates a stored record. Unknown fields and
// trailing data are refused so a corrupted or foreign value is not half-read.
func Unmarshal(data []byte) (Record, error) {
	if len(data) > 2*maxCiphertextSize {
		return Record{}, fmt.Errorf("%w: %d bytes is too large for a credential record", ErrMalformedRecord, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformedRecord, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Record{}, fmt.Errorf("%w: trailing data after the record", ErrMalformedRecord)
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}
