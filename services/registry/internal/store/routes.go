package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// ErrAliasNotFound means no alias has the name.
var ErrAliasNotFound = errors.New("alias not found")

// Alias returns a model alias and its revision.
func (s *Store) Alias(ctx context.Context, name string) (*pb.ModelAlias, uint64, error) {
	e, err := s.routes.Get(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrAliasNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	var a pb.ModelAlias
	if err := proto.Unmarshal(e.Value(), &a); err != nil {
		return nil, 0, fmt.Errorf("decode alias %q: %w", name, err)
	}
	return &a, e.Revision(), nil
}

// PutAlias creates or replaces an alias.
func (s *Store) PutAlias(ctx context.Context, a *pb.ModelAlias) error {
	data, err := proto.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.routes.Put(ctx, contract.Key(a.GetName()), data)
	return err
}

// DeleteAlias removes an alias and its history.
func (s *Store) DeleteAlias(ctx context.Context, name string) error {
	err := s.routes.Purge(ctx, contract.Key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrAliasNotFound
	}
	return err
}

// Aliases returns every alias.
func (s *Store) Aliases(ctx context.Context) ([]*pb.ModelAlias, error) {
	var out []*pb.ModelAlias
	err := eachKey(ctx, s.routes, func(name string) error {
		a, _, err := s.Alias(ctx, name)
		if errors.Is(err, ErrAliasNotFound) {
			return nil // deleted while listing
		}
		out = append(out, a)
		return err
	})
	return out, err
}

// ConsumerKeys returns every consumer key record in sy_keys (owned by the
// router; the registry only reads it to refuse deregistering a service a
// key still allows).
func (s *Store) ConsumerKeys(ctx context.Context) ([]*pb.ConsumerKey, error) {
	lister, err := s.keys.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []*pb.ConsumerKey
	for k := range lister.Keys() {
		e, err := s.keys.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var ck pb.ConsumerKey
		if err := proto.Unmarshal(e.Value(), &ck); err != nil {
			continue // not a key record this registry understands
		}
		out = append(out, &ck)
	}
	return out, nil
}

// eachKey calls fn with the unescaped name of every live key in kv.
func eachKey(ctx context.Context, kv jetstream.KeyValue, fn func(name string) error) error {
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return err
	}
	for k := range lister.Keys() {
		name, ok := contract.Untoken(k)
		if !ok {
			continue
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}
