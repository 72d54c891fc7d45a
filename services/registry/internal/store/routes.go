package store

import (
	"context"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// ErrAliasNotFound means no alias has the name.
var ErrAliasNotFound = ErrNotFound

// Alias returns a model alias and its revision.
func (s *Store) Alias(ctx context.Context, name string) (*pb.ModelAlias, uint64, error) {
	return s.routes.Get(ctx, name)
}

// PutAlias creates or replaces an alias.
func (s *Store) PutAlias(ctx context.Context, a *pb.ModelAlias) error {
	return s.routes.Put(ctx, a.GetName(), a)
}

// DeleteAlias removes an alias and its history.
func (s *Store) DeleteAlias(ctx context.Context, name string) error {
	return s.routes.Delete(ctx, name)
}

// Aliases returns every alias.
func (s *Store) Aliases(ctx context.Context) ([]*pb.ModelAlias, error) { return s.routes.List(ctx) }

// ConsumerKeys returns every consumer key record in sy_keys (owned by the
// router; the registry only reads it to refuse deregistering a service a
// key still allows).
func (s *Store) ConsumerKeys(ctx context.Context) ([]*pb.ConsumerKey, error) { return s.keys.List(ctx) }
