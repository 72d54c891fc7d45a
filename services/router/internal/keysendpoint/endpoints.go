// Package keysendpoint adapts the consumer key admin service to go-kit
// endpoints, one per operation on sy.admin.v1.keys.*.
package keysendpoint

import (
	"context"
	"log/slog"

	"github.com/go-kit/kit/endpoint"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/router/internal/keys"
)

// Set holds the endpoints.
type Set struct {
	Create, List, Revoke, Update endpoint.Endpoint
}

// New builds the endpoints of svc wrapped in logging middleware (which
// never logs bodies: a create reply carries the new key).
func New(svc keys.Service, log *slog.Logger) Set {
	mw := func(name string, ep endpoint.Endpoint) endpoint.Endpoint {
		return natsrpc.Logging(log, "keys."+name)(ep)
	}
	return Set{
		Create: mw("create", func(ctx context.Context, req any) (any, error) {
			rep, err := svc.Create(ctx, req.(*pb.CreateKeyRequest))
			if err != nil {
				return &pb.CreateKeyResponse{}, err
			}
			return rep, nil
		}),
		List: mw("list", func(ctx context.Context, req any) (any, error) {
			ks, err := svc.List(ctx, req.(*pb.ListKeysRequest).GetOwner())
			return &pb.ListKeysResponse{Keys: ks}, err
		}),
		Revoke: mw("revoke", func(ctx context.Context, req any) (any, error) {
			rec, err := svc.Revoke(ctx, req.(*pb.RevokeKeyRequest).GetId())
			return &pb.RevokeKeyResponse{Record: rec}, err
		}),
		Update: mw("update", func(ctx context.Context, req any) (any, error) {
			rec, err := svc.Update(ctx, req.(*pb.UpdateKeyRequest))
			return &pb.UpdateKeyResponse{Record: rec}, err
		}),
	}
}
