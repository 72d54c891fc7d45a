// Package registryendpoint adapts the registry service to go-kit
// endpoints, one per admin operation.
package registryendpoint

import (
	"context"
	"log/slog"

	"github.com/go-kit/kit/endpoint"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/registry/internal/registry"
)

// Set holds the registry's endpoints.
type Set struct {
	Register, Get, List, Update, Deregister    endpoint.Endpoint
	AliasPut, AliasGet, AliasList, AliasDelete endpoint.Endpoint
}

// New builds the endpoints of svc wrapped in logging middleware.
func New(svc registry.Service, log *slog.Logger) Set {
	mw := func(name string, ep endpoint.Endpoint) endpoint.Endpoint {
		return natsrpc.Logging(log, "services."+name)(ep)
	}
	set := serviceEndpoints(svc, mw)
	aliasEndpoints(&set, svc, func(name string, ep endpoint.Endpoint) endpoint.Endpoint {
		return natsrpc.Logging(log, "aliases."+name)(ep)
	})
	return set
}

type middleware func(name string, ep endpoint.Endpoint) endpoint.Endpoint

func serviceEndpoints(svc registry.Service, mw middleware) Set {
	return Set{
		Register: mw("register", func(ctx context.Context, req any) (any, error) {
			v, err := svc.Register(ctx, req.(*pb.RegisterServiceRequest))
			return &pb.RegisterServiceResponse{Service: v}, err
		}),
		Get: mw("get", func(ctx context.Context, req any) (any, error) {
			v, err := svc.Get(ctx, req.(*pb.GetServiceRequest).GetName())
			return &pb.GetServiceResponse{Service: v}, err
		}),
		List: mw("list", func(ctx context.Context, req any) (any, error) {
			vs, err := svc.List(ctx, req.(*pb.ListServicesRequest))
			return &pb.ListServicesResponse{Services: vs}, err
		}),
		Update: mw("update", func(ctx context.Context, req any) (any, error) {
			v, err := svc.Update(ctx, req.(*pb.UpdateServiceRequest))
			return &pb.UpdateServiceResponse{Service: v}, err
		}),
		Deregister: mw("deregister", func(ctx context.Context, req any) (any, error) {
			name := req.(*pb.DeregisterServiceRequest).GetName()
			return &pb.DeregisterServiceResponse{Name: name}, svc.Deregister(ctx, name)
		}),
	}
}

func aliasEndpoints(set *Set, svc registry.Service, mw middleware) {
	set.AliasPut = mw("put", func(ctx context.Context, req any) (any, error) {
		a, err := svc.PutAlias(ctx, req.(*pb.PutAliasRequest).GetAlias())
		return &pb.PutAliasResponse{Alias: a}, err
	})
	set.AliasGet = mw("get", func(ctx context.Context, req any) (any, error) {
		a, err := svc.GetAlias(ctx, req.(*pb.GetAliasRequest).GetName())
		return &pb.GetAliasResponse{Alias: a}, err
	})
	set.AliasList = mw("list", func(ctx context.Context, _ any) (any, error) {
		as, err := svc.ListAliases(ctx)
		return &pb.ListAliasesResponse{Aliases: as}, err
	})
	set.AliasDelete = mw("delete", func(ctx context.Context, req any) (any, error) {
		name := req.(*pb.DeleteAliasRequest).GetName()
		return &pb.DeleteAliasResponse{Name: name}, svc.DeleteAlias(ctx, name)
	})
}
