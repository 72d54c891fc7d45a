package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/registry/internal/store"
	"github.com/switchyard/switchyard/services/registry/internal/validate"
)

// Aliases is the model alias half of the registry's API: one edge model
// name mapped to one or more services, stored in sy_routes for the router.
type Aliases interface {
	PutAlias(ctx context.Context, a *pb.ModelAlias) (*pb.ModelAlias, error)
	GetAlias(ctx context.Context, name string) (*pb.ModelAlias, error)
	ListAliases(ctx context.Context) ([]*pb.ModelAlias, error)
	DeleteAlias(ctx context.Context, name string) error
}

// PutAlias creates or replaces an alias after checking its syntax and that
// every target service is registered. Replacing an alias is one KV write,
// so the router switches every request from the old targets to the new
// ones at once: a model is repointed without a failed request.
func (s *service) PutAlias(ctx context.Context, in *pb.ModelAlias) (*pb.ModelAlias, error) {
	targets := make([]validate.AliasTarget, len(in.GetTargets()))
	for i, t := range in.GetTargets() {
		targets[i] = validate.AliasTarget{Service: t.GetService(), Weight: t.GetWeight()}
	}
	if err := validate.Alias(in.GetName(), targets, in.GetModelFrom()); err != nil {
		return nil, fieldError(err)
	}
	if err := s.targetsExist(ctx, in); err != nil {
		return nil, err
	}
	a := &pb.ModelAlias{Name: in.GetName(), ModelFrom: in.GetModelFrom(), UpdatedAt: timestamppb.New(s.now())}
	for _, t := range in.GetTargets() {
		a.Targets = append(a.Targets, &pb.AliasTarget{Service: t.GetService(), Weight: t.GetWeight()})
	}
	if err := s.store.PutAlias(ctx, a); err != nil {
		return nil, unavailable(err)
	}
	return a, nil
}

// targetsExist refuses an alias naming services that are not registered,
// naming all of them.
func (s *service) targetsExist(ctx context.Context, a *pb.ModelAlias) error {
	var missing []string
	for _, t := range a.GetTargets() {
		_, _, err := s.store.Get(ctx, t.GetService())
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, fmt.Sprintf("%q", t.GetService()))
			continue
		}
		if err != nil {
			return unavailable(err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return apierr.Field(validate.FieldAliasTargets, fmt.Sprintf(
		"alias %q targets %s, which %s not registered: register %s first (`syctl services register`), or see `syctl services list`",
		a.GetName(), strings.Join(missing, ", "), plural(len(missing), "is", "are"), plural(len(missing), "it", "them")))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (s *service) GetAlias(ctx context.Context, name string) (*pb.ModelAlias, error) {
	a, _, err := s.store.Alias(ctx, name)
	if errors.Is(err, store.ErrAliasNotFound) {
		return nil, apierr.Newf(apierr.NotFound, "no model alias named %q: see `syctl aliases list`", name)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return a, nil
}

func (s *service) ListAliases(ctx context.Context) ([]*pb.ModelAlias, error) {
	all, err := s.store.Aliases(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	slices.SortFunc(all, func(a, b *pb.ModelAlias) int { return strings.Compare(a.GetName(), b.GetName()) })
	return all, nil
}

func (s *service) DeleteAlias(ctx context.Context, name string) error {
	err := s.store.DeleteAlias(ctx, name)
	if errors.Is(err, store.ErrAliasNotFound) {
		return apierr.Newf(apierr.NotFound, "no model alias named %q: see `syctl aliases list`", name)
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}
