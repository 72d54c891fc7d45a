package registry

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/registry/internal/store"
)

// unknownStatus is shown until healthcheck has recorded a status.
func unknownStatus(name string) *pb.Status {
	return &pb.Status{Service: name, State: "Unknown", Message: "No status has been reported for this service yet"}
}

func (s *service) Get(ctx context.Context, name string) (*pb.ServiceView, error) {
	svc, _, err := s.store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.Newf(apierr.NotFound, "no service named %q: see `syctl services list`", name)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return s.view(ctx, svc)
}

func (s *service) view(ctx context.Context, svc *pb.Service) (*pb.ServiceView, error) {
	st, err := s.store.Status(ctx, svc.GetName())
	if err != nil {
		return nil, unavailable(err)
	}
	if st == nil {
		st = unknownStatus(svc.GetName())
	}
	return &pb.ServiceView{Service: svc, Status: st}, nil
}

func (s *service) List(ctx context.Context, req *pb.ListServicesRequest) ([]*pb.ServiceView, error) {
	all, err := s.store.List(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	var out []*pb.ServiceView
	for _, svc := range all {
		if !hasAll(svc.GetFunctions(), req.GetFunction()) || !hasAll(svc.GetTags(), req.GetTag()) {
			continue
		}
		v, err := s.view(ctx, svc)
		if err != nil {
			return nil, err
		}
		if req.GetState() != "" && !strings.EqualFold(v.GetStatus().GetState(), req.GetState()) {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *pb.ServiceView) int {
		return strings.Compare(a.GetService().GetName(), b.GetService().GetName())
	})
	return out, nil
}
