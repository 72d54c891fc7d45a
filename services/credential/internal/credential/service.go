// Package credential is the credential service: it stores provider keys as
// AES-256-GCM envelope ciphertext (the master key never enters NATS),
// resolves them for the router and healthcheck, and re-wraps every data
// key when the master key rotates.
//
// Owns: the sy_credentials KV bucket.
// Serves: sy.rpc.v1.credential.{put,delete,resolve},
// sy.admin.v1.credentials.rotate.
package credential

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/secret"
	"github.com/switchyard/switchyard/services/credential/internal/envelope"
	"github.com/switchyard/switchyard/services/credential/internal/store"
)

// Service is the credential service's API.
type Service interface {
	Put(ctx context.Context, name string, src *pb.CredentialSource) (keyID string, err error)
	Delete(ctx context.Context, name string) error
	Resolve(ctx context.Context, name string, src *pb.CredentialSource) (secret.Secret, error)
	RotateMaster(ctx context.Context) (*pb.RotateMasterResponse, error)
}

type service struct {
	store   *store.KV
	keyring *envelope.Keyring
	now     func() time.Time
}

// New returns the service over a store and a master keyring.
func New(s *store.KV, k *envelope.Keyring) Service {
	return &service{store: s, keyring: k, now: time.Now}
}

func (s *service) Put(ctx context.Context, name string, src *pb.CredentialSource) (string, error) {
	if name == "" {
		return "", apierr.Field("name", "a credential needs the name of the service it belongs to")
	}
	rec, err := s.seal(name, src)
	if err != nil {
		return "", err
	}
	if err := s.store.Put(ctx, name, rec, 0); err != nil {
		return "", apierr.Newf(apierr.Unavailable, "store credential: %v", err)
	}
	return rec.KeyID, nil
}

// seal turns a source into a record, checking that a reference resolves
// now, so a typo in an env var name is refused instead of stored.
func (s *service) seal(name string, src *pb.CredentialSource) (store.Record, error) {
	rec := store.Record{UpdatedAt: s.now().UTC()}
	switch v := src.GetSource().(type) {
	case *pb.CredentialSource_Value:
		if strings.TrimSpace(v.Value) == "" {
			return rec, apierr.Field("credential.value", "the API key is empty")
		}
		sealed, err := envelope.Seal(s.keyring, name, secret.New(v.Value))
		if err != nil {
			return rec, apierr.Newf(apierr.Internal, "encrypt credential: %v", err)
		}
		data, err := sealed.Marshal()
		if err != nil {
			return rec, apierr.Newf(apierr.Internal, "encode credential: %v", err)
		}
		rec.Source, rec.Sealed, rec.KeyID = store.SourceValue, data, s.keyring.ActiveID()
	case *pb.CredentialSource_Env:
		rec.Source, rec.Env = store.SourceEnv, v.Env
	case *pb.CredentialSource_File:
		rec.Source, rec.File = store.SourceFile, v.File
	default:
		return rec, apierr.Field("credential", "set one of value, env or file")
	}
	if rec.Source != store.SourceValue {
		if _, err := s.resolveRecord(name, rec); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func (s *service) Delete(ctx context.Context, name string) error {
	if err := s.store.Delete(ctx, name); err != nil {
		return apierr.Newf(apierr.Unavailable, "%v", err)
	}
	return nil
}

func (s *service) Resolve(ctx context.Context, name string, src *pb.CredentialSource) (secret.Secret, error) {
	if src.GetSource() != nil {
		if v, ok := src.GetSource().(*pb.CredentialSource_Value); ok {
			return secret.New(v.Value), nil
		}
		rec, err := s.seal(name, src)
		if err != nil {
			return secret.Secret{}, err
		}
		return s.resolveRecord(name, rec)
	}
	rec, _, err := s.store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return secret.Secret{}, apierr.Newf(apierr.NotFound, "no credential is stored for service %q", name)
	}
	if err != nil {
		return secret.Secret{}, apierr.Newf(apierr.Unavailable, "%v", err)
	}
	return s.resolveRecord(name, rec)
}

// resolveRecord yields the key a record stands for. Its errors name what is
// missing (env var, file, master key) so a service's status can say so.
func (s *service) resolveRecord(name string, rec store.Record) (secret.Secret, error) {
	switch rec.Source {
	case store.SourceValue:
		sealed, err := envelope.Unmarshal(rec.Sealed)
		if err != nil {
			return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition, "credential of %q is corrupt: %v", name, err)
		}
		v, err := envelope.Open(s.keyring, name, sealed)
		if err != nil {
			return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition,
				"credential of %q cannot be decrypted (%v): check the credential service's master keys", name, err)
		}
		return v, nil
	case store.SourceEnv:
		v, ok := os.LookupEnv(rec.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition,
				"environment variable %s is not set on the credential service", rec.Env)
		}
		return secret.New(strings.TrimSpace(v)), nil
	case store.SourceFile:
		data, err := os.ReadFile(rec.File)
		if err != nil {
			return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition,
				"key file %s cannot be read by the credential service: %v", rec.File, errors.Unwrap(err))
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition, "key file %s is empty", rec.File)
		}
		return secret.New(v), nil
	}
	return secret.Secret{}, apierr.Newf(apierr.FailedPrecondition, "credential of %q has unknown source %q", name, rec.Source)
}

func (s *service) RotateMaster(ctx context.Context) (*pb.RotateMasterResponse, error) {
	names, err := s.store.Names(ctx)
	if err != nil {
		return nil, apierr.Newf(apierr.Unavailable, "list credentials: %v", err)
	}
	out := &pb.RotateMasterResponse{ActiveKeyId: s.keyring.ActiveID()}
	for _, name := range names {
		changed, err := s.rewrap(ctx, name)
		if err != nil {
			return nil, apierr.Newf(apierr.FailedPrecondition, "rewrap %q (%d done so far): %v", name, out.Rewrapped, err)
		}
		if changed {
			out.Rewrapped++
		} else {
			out.Unchanged++
		}
	}
	return out, nil
}

func (s *service) rewrap(ctx context.Context, name string) (bool, error) {
	rec, rev, err := s.store.Get(ctx, name)
	if err != nil || rec.Source != store.SourceValue || rec.KeyID == s.keyring.ActiveID() {
		return false, ignoreNotFound(err)
	}
	sealed, err := envelope.Unmarshal(rec.Sealed)
	if err != nil {
		return false, err
	}
	if sealed, err = envelope.Rewrap(sealed, s.keyring); err != nil {
		return false, err
	}
	if rec.Sealed, err = sealed.Marshal(); err != nil {
		return false, err
	}
	rec.KeyID, rec.UpdatedAt = s.keyring.ActiveID(), s.now().UTC()
	return true, s.store.Put(ctx, name, rec, rev)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}
