// Package credentialendpoint adapts the credential service to go-kit
// endpoints: one per operation, each taking and returning the protobuf
// messages of switchyard.v1.
package credentialendpoint

import (
	"context"
	"log/slog"

	"github.com/go-kit/kit/endpoint"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/credential/internal/credential"
)

// Set holds the service's endpoints.
type Set struct {
	Put, Delete, Resolve, RotateMaster endpoint.Endpoint
}

// New builds the endpoints of svc, wrapped in logging middleware.
func New(svc credential.Service, log *slog.Logger) Set {
	return Set{
		Put:          natsrpc.Logging(log, "credential.put")(makePut(svc)),
		Delete:       natsrpc.Logging(log, "credential.delete")(makeDelete(svc)),
		Resolve:      natsrpc.Logging(log, "credential.resolve")(makeResolve(svc)),
		RotateMaster: natsrpc.Logging(log, "credentials.rotate")(makeRotate(svc)),
	}
}

func makePut(svc credential.Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		r := req.(*pb.PutCredentialRequest)
		id, err := svc.Put(ctx, r.GetName(), r.GetSource())
		if err != nil {
			return nil, err
		}
		return &pb.PutCredentialResponse{KeyId: id}, nil
	}
}

func makeDelete(svc credential.Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		return &pb.DeleteCredentialResponse{}, svc.Delete(ctx, req.(*pb.DeleteCredentialRequest).GetName())
	}
}

func makeResolve(svc credential.Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		r := req.(*pb.ResolveCredentialRequest)
		v, err := svc.Resolve(ctx, r.GetName(), r.GetSource())
		if err != nil {
			return nil, err
		}
		return &pb.ResolveCredentialResponse{Value: v.Reveal()}, nil
	}
}

func makeRotate(svc credential.Service) endpoint.Endpoint {
	return func(ctx context.Context, _ any) (any, error) {
		return svc.RotateMaster(ctx)
	}
}
