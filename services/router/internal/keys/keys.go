// Package keys is the router's consumer key subsystem: key minting and
// hashing, the sy_keys store, the in-memory snapshot every router replica
// keeps from a KV watch, authentication of edge requests and authorization
// of a key against a model, a service and the service's access policy.
//
// A consumer key is "sy-" followed by 43 base62 characters (32 random
// bytes). It is shown once, when it is created. sy_keys holds only its
// SHA-256 (the KV key, in hex) and a ConsumerKey record with a display
// prefix; nothing can turn a record back into a key.
//
// The request path never waits on NATS: Authenticator hashes the presented
// key and looks the digest up in the current Snapshot, an immutable map
// swapped atomically by the Watcher whenever sy_keys changes. A revoke or
// an update therefore reaches every replica within one KV watch delivery
// (milliseconds). Unknown keys are answered from memory as well and are
// rate-limited per source address, so guessing costs the gateway a hash and
// a map lookup, never a store call.
//
// Admin operations (create, list, revoke, update on sy.admin.v1.keys.*) are
// served by Admin over the Store; see keysendpoint and keystransport.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
	"unsafe"
)

// Key format.
const (
	// KeyPrefix starts every consumer key, so a leaked key is recognisable
	// (secret scanners, logs) and cannot be confused with a provider key.
	KeyPrefix = "sy-"
	// keyRandomBytes is the key's entropy: 256 bits, beyond any online or
	// offline guessing.
	keyRandomBytes = 32
	// keyBodyLen is 32 bytes in base62: ceil(256 / log2(62)) = 43.
	keyBodyLen = 43
	// KeyLen is the length of every key.
	KeyLen = len(KeyPrefix) + keyBodyLen
	// displayLen is how much of the key the record keeps for display:
	// "sy-" and 7 characters (about 42 bits), enough to tell keys apart in a
	// list and far too little to help a guess at the remaining 214 bits.
	displayLen = len(KeyPrefix) + 7
)

// Digest is the SHA-256 of a key, the only form in which a key is stored.
type Digest [sha256.Size]byte

// Hex is the digest as the sy_keys KV key.
func (d Digest) Hex() string { return hex.EncodeToString(d[:]) }

// HashKey returns the digest of a presented key.
func HashKey(key string) Digest {
	// The bytes of key are only read by Sum256, so viewing the string's
	// memory as a slice is safe and spares a copy (and an allocation) per
	// request.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(key), len(key)))
}

// ParseDigestHex reads a digest written by Digest.Hex.
func ParseDigestHex(s string) (Digest, bool) {
	var d Digest
	if len(s) != hex.EncodedLen(len(d)) {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(s))
	return d, err == nil
}

// Minted is a freshly generated key: the key itself, to show once, and
// what is stored instead of it.
type Minted struct {
	Key    string
	Digest Digest
	// Prefix is the displayable start of the key ("sy-AbC12xY").
	Prefix string
}

// Mint generates a key from rnd (crypto/rand.Reader when nil).
func Mint(rnd io.Reader) (Minted, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [keyRandomBytes]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return Minted{}, fmt.Errorf("read key randomness: %w", err)
	}
	body := new(big.Int).SetBytes(b[:]).Text(62)
	key := KeyPrefix + strings.Repeat("0", keyBodyLen-len(body)) + body
	return Minted{Key: key, Digest: HashKey(key), Prefix: key[:displayLen]}, nil
}

// wellFormed reports whether s could be a key at all. A presented value
// that is not is refused without hashing it.
func wellFormed(s string) bool {
	if len(s) != KeyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// idEncoding spells key ids in lower-case base32 without padding.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random key id ("key_" and 16 characters, 80 bits). The
// id is the handle operators use to revoke or update a key; it is
// unrelated to the key and to its digest.
func newID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("read id randomness: %w", err)
	}
	return "key_" + idEncoding.EncodeToString(b[:]), nil
}
