package keys

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Service is the admin API of consumer keys (sy.admin.v1.keys.*).
type Service interface {
	// Create mints a key; the response carries it, the only time it is
	// ever shown.
	Create(ctx context.Context, req *pb.CreateKeyRequest) (*pb.CreateKeyResponse, error)
	// List returns the records (never keys, never digests), optionally of
	// one owner, newest first.
	List(ctx context.Context, owner string) ([]*pb.ConsumerKey, error)
	// Revoke marks a key revoked; every router refuses it within one KV
	// watch delivery. Revoking twice is not an error.
	Revoke(ctx context.Context, id string) (*pb.ConsumerKey, error)
	// Update changes a key's groups, allowances, expiry or limits.
	Update(ctx context.Context, req *pb.UpdateKeyRequest) (*pb.ConsumerKey, error)
}

// Admin implements Service over the Store.
type Admin struct {
	store *Store
	cache *Cache // this replica's snapshot, to find a key's digest by id
	log   *slog.Logger
	now   func() time.Time
	rand  io.Reader // nil: crypto/rand
}

// NewAdmin returns the admin service.
func NewAdmin(store *Store, cache *Cache, log *slog.Logger) *Admin {
	return &Admin{store: store, cache: cache, log: log, now: time.Now}
}

// Create implements Service.
func (a *Admin) Create(ctx context.Context, req *pb.CreateKeyRequest) (*pb.CreateKeyResponse, error) {
	if err := validOwner(req.GetOwner()); err != nil {
		return nil, err
	}
	al := allowances{groups: req.GetGroups(), models: req.GetAllowedModels(), services: req.GetAllowedServices(),
		expiresAt: req.GetExpiresAt(), limits: req.GetLimits(), modelLimits: req.GetModelLimits()}
	if err := al.check(ctx, a.now(), a.store.ServiceExists); err != nil {
		return nil, err
	}
	minted, err := Mint(a.rand)
	if err != nil {
		return nil, err
	}
	id, err := newID(a.rand)
	if err != nil {
		return nil, err
	}
	rec := &pb.ConsumerKey{
		Id: id, Hash: minted.Digest.Hex(), Prefix: minted.Prefix, Owner: req.GetOwner(),
		Groups: req.GetGroups(), AllowedModels: req.GetAllowedModels(), AllowedServices: req.GetAllowedServices(),
		ExpiresAt: req.GetExpiresAt(), CreatedAt: timestamppb.New(a.now()), Limits: req.GetLimits(),
		ModelLimits: req.GetModelLimits(),
	}
	if err := a.store.Create(ctx, rec); err != nil {
		return nil, unavailable(err)
	}
	a.log.Info("consumer key created", "id", id, "prefix", minted.Prefix, "owner", rec.GetOwner())
	return &pb.CreateKeyResponse{Key: minted.Key, Record: redacted(rec)}, nil
}

// List implements Service.
func (a *Admin) List(ctx context.Context, owner string) ([]*pb.ConsumerKey, error) {
	all, err := a.store.List(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*pb.ConsumerKey, 0, len(all))
	for _, rec := range all {
		if owner == "" || rec.GetOwner() == owner {
			out = append(out, redacted(rec))
		}
	}
	slices.SortFunc(out, func(x, y *pb.ConsumerKey) int {
		if c := y.GetCreatedAt().AsTime().Compare(x.GetCreatedAt().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(x.GetId(), y.GetId())
	})
	return out, nil
}

// Revoke implements Service.
func (a *Admin) Revoke(ctx context.Context, id string) (*pb.ConsumerKey, error) {
	rec, err := a.modify(ctx, id, func(rec *pb.ConsumerKey) error {
		rec.Revoked = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("consumer key revoked", "id", id, "prefix", rec.GetPrefix())
	return rec, nil
}

// Update implements Service.
func (a *Admin) Update(ctx context.Context, req *pb.UpdateKeyRequest) (*pb.ConsumerKey, error) {
	mask, err := updateMask(req)
	if err != nil {
		return nil, err
	}
	al := allowances{groups: req.GetGroups(), models: req.GetAllowedModels(), services: req.GetAllowedServices(),
		expiresAt: req.GetExpiresAt(), limits: req.GetLimits(), modelLimits: req.GetModelLimits()}
	if err := al.check(ctx, a.now(), a.store.ServiceExists); err != nil {
		return nil, err
	}
	rec, err := a.modify(ctx, req.GetId(), func(rec *pb.ConsumerKey) error {
		if rec.GetRevoked() {
			return apierr.Newf(apierr.FailedPrecondition, "key %s is revoked and cannot be changed: create a new key", rec.GetId())
		}
		applyMask(rec, req, mask)
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("consumer key updated", "id", rec.GetId(), "prefix", rec.GetPrefix(), "fields", strings.Join(mask, ","))
	return rec, nil
}

func applyMask(rec *pb.ConsumerKey, req *pb.UpdateKeyRequest, mask []string) {
	for _, f := range mask {
		switch f {
		case fieldGroups:
			rec.Groups = req.GetGroups()
		case fieldAllowedModels:
			rec.AllowedModels = req.GetAllowedModels()
		case fieldAllowedServices:
			rec.AllowedServices = req.GetAllowedServices()
		case fieldExpiresAt:
			rec.ExpiresAt = req.GetExpiresAt()
		case fieldLimits:
			rec.Limits = req.GetLimits()
		case fieldModelLimits:
			rec.ModelLimits = req.GetModelLimits()
		}
	}
}

// modify reads the key with id, applies change and writes it back with a
// compare-and-set, retrying when another write got there first.
func (a *Admin) modify(ctx context.Context, id string, change func(*pb.ConsumerKey) error) (*pb.ConsumerKey, error) {
	if id == "" {
		return nil, apierr.Field("id", "the key id is required (\"key_…\", see `syctl keys list`)")
	}
	hash, err := a.digestOf(ctx, id)
	if err != nil {
		return nil, err
	}
	for range 5 {
		rec, rev, err := a.store.Get(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return nil, notFound(id)
		}
		if err != nil {
			return nil, unavailable(err)
		}
		before := proto.Clone(rec)
		if err := change(rec); err != nil {
			return nil, err
		}
		if proto.Equal(before, rec) {
			return redacted(rec), nil
		}
		err = a.store.Update(ctx, rec, rev)
		if err == nil {
			return redacted(rec), nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, unavailable(err)
		}
	}
	return nil, apierr.Newf(apierr.Unavailable, "key %s is being changed by someone else; retry", id)
}

// digestOf finds a key's digest: in this replica's snapshot, or by a scan
// of the bucket for a key created through another replica a moment ago.
func (a *Admin) digestOf(ctx context.Context, id string) (string, error) {
	if d, ok := a.cache.Load().ByID(id); ok {
		return d.Hex(), nil
	}
	rec, err := a.store.FindByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return "", notFound(id)
	}
	if err != nil {
		return "", unavailable(err)
	}
	return rec.GetHash(), nil
}

// redacted drops the digest from a record an admin API returns: the id is
// the handle, and the digest is nobody's business outside sy_keys.
func redacted(rec *pb.ConsumerKey) *pb.ConsumerKey {
	out := proto.CloneOf(rec)
	out.Hash = ""
	return out
}

func notFound(id string) error {
	return apierr.Newf(apierr.NotFound, "no consumer key has id %q: see `syctl keys list`", id)
}

func unavailable(err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apierr.Newf(apierr.Unavailable, "the key store is unavailable: %v", err)
}
