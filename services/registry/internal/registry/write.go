package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/registry/internal/store"
	"github.com/switchyard/switchyard/services/registry/internal/validate"
)

// Update changes a service's editable fields (functions, tags, API key).
// A new key is probed first and stored beside the old one; the record then
// switches to it in one compare-and-set, so the edge never sees a service
// without a working key.
func (s *service) Update(ctx context.Context, req *pb.UpdateServiceRequest) (*pb.ServiceView, error) {
	cur, rev, err := s.store.Get(ctx, req.GetName())
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.Newf(apierr.NotFound, "no service named %q: see `syctl services list`", req.GetName())
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if err := refuseCreateOnly(cur, req); err != nil {
		return nil, err
	}
	next, err := s.merge(cur, req)
	if err != nil {
		return nil, err
	}
	if req.GetCredential().GetSource() == nil {
		return s.commit(ctx, next, rev, "")
	}
	st, err := s.probe(ctx, next, req.GetCredential())
	if err != nil {
		return nil, err
	}
	next.CredentialRef = newCredentialRef(next.GetName())
	if err := s.putCredential(ctx, next.GetCredentialRef(), req.GetCredential()); err != nil {
		return nil, err
	}
	view, err := s.commit(ctx, next, rev, cur.GetCredentialRef())
	if err != nil {
		s.deleteCredential(next.GetCredentialRef())
		return nil, err
	}
	view.Status = st
	return view, nil
}

// commit writes next over revision rev and then drops oldCredential.
func (s *service) commit(ctx context.Context, next *pb.Service, rev uint64, oldCredential string) (*pb.ServiceView, error) {
	next.UpdatedAt = timestamppb.New(s.now())
	if err := s.store.Update(ctx, next, rev); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, apierr.Newf(apierr.FailedPrecondition, "service %q changed while this update ran; retry it", next.GetName())
		}
		return nil, unavailable(err)
	}
	if oldCredential != "" {
		s.deleteCredential(oldCredential)
	}
	s.publish(ctx, contract.VerbUpdated, next)
	return s.view(ctx, next)
}

// refuseCreateOnly refuses an update whose mask names a create-only field
// or whose values would change one, with validate's wording (the field,
// the registered and requested values, and "deregister and register again").
func refuseCreateOnly(cur *pb.Service, req *pb.UpdateServiceRequest) error {
	if err := validate.UpdateMask(req.GetUpdateMask()); err != nil {
		return fieldError(err)
	}
	existing := validateService(cur)
	proposed := existing
	overlay := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	overlay(&proposed.Model, req.GetModel())
	overlay(&proposed.BaseURL, req.GetBaseUrl())
	overlay(&proposed.Protocol, req.GetProtocol())
	if req.GetAllowInsecureTls() {
		proposed.AllowInsecureTLS = true
	}
	if err := validate.CreateOnly(existing, proposed); err != nil {
		return fieldError(err)
	}
	return nil
}

// merge applies the editable fields: those in update_mask, or, without a
// mask, those that are set.
func (s *service) merge(cur *pb.Service, req *pb.UpdateServiceRequest) (*pb.Service, error) {
	next := proto.Clone(cur).(*pb.Service)
	masked := func(f string, set bool) bool {
		if len(req.GetUpdateMask()) == 0 {
			return set
		}
		return slices.Contains(req.GetUpdateMask(), f)
	}
	if masked("functions", len(req.GetFunctions()) > 0) {
		next.Functions = req.GetFunctions()
	}
	if masked("tags", len(req.GetTags()) > 0) {
		next.Tags = req.GetTags()
	}
	if masked("allowed_groups", len(req.GetAllowedGroups()) > 0) {
		next.AllowedGroups = req.GetAllowedGroups()
	}
	if masked("allowed_domains", len(req.GetAllowedDomains()) > 0) {
		next.AllowedDomains = req.GetAllowedDomains()
	}
	if masked("limits", req.GetLimits() != nil) {
		next.Limits = req.GetLimits()
	}
	checked, err := normalise(next)
	if err != nil {
		return nil, err
	}
	next.Functions, next.Tags = checked.GetFunctions(), checked.GetTags()
	next.AllowedGroups, next.AllowedDomains, next.Limits = checked.GetAllowedGroups(), checked.GetAllowedDomains(), checked.GetLimits()
	return next, nil
}

// Deregister removes the record first (the edge stops routing to it), then
// its credential; its status goes when healthcheck sees the delete.
func (s *service) Deregister(ctx context.Context, name string) error {
	cur, _, err := s.store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Newf(apierr.NotFound, "no service named %q: see `syctl services list`", name)
	}
	if err != nil {
		return unavailable(err)
	}
	if err := s.refuseReferenced(ctx, name); err != nil {
		return err
	}
	if err := s.store.Delete(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return unavailable(err)
	}
	s.deleteCredential(cur.GetCredentialRef())
	s.publish(ctx, contract.VerbDeregistered, cur)
	return nil
}

// refuseReferenced refuses to deregister a service that a model alias or a
// live consumer key still names, listing every reference so the operator
// can clear them in one pass.
func (s *service) refuseReferenced(ctx context.Context, name string) error {
	aliases, err := s.store.Aliases(ctx)
	if err != nil {
		return unavailable(err)
	}
	keys, err := s.store.ConsumerKeys(ctx)
	if err != nil {
		return unavailable(err)
	}
	var refs []string
	for _, a := range aliases {
		if slices.ContainsFunc(a.GetTargets(), func(t *pb.AliasTarget) bool { return t.GetService() == name }) {
			refs = append(refs, fmt.Sprintf("model alias %q", a.GetName()))
		}
	}
	for _, k := range keys {
		if !k.GetRevoked() && slices.Contains(k.GetAllowedServices(), name) {
			refs = append(refs, fmt.Sprintf("consumer key %s (%s…, owner %q)", k.GetId(), k.GetPrefix(), k.GetOwner()))
		}
	}
	if len(refs) == 0 {
		return nil
	}
	return apierr.Newf(apierr.FailedPrecondition,
		"service %q is still referenced by %s: remove it from them first (`syctl aliases put` or `syctl aliases delete`, `syctl keys update`), then deregister again",
		name, strings.Join(refs, ", "))
}
