package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

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
