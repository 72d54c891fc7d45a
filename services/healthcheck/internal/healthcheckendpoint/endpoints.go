// Package healthcheckendpoint adapts the healthcheck service to go-kit
// endpoints.
package healthcheckendpoint

import (
	"context"
	"log/slog"

	"github.com/go-kit/kit/endpoint"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
)

// Prober is what the endpoints need of the service.
type Prober interface {
	InlineProbe(ctx context.Context, req *pb.ProbeRequest) (*pb.Status, error)
}

// Set holds the service's endpoints.
type Set struct {
	Probe endpoint.Endpoint
}

// New builds the endpoints.
func New(svc Prober, log *slog.Logger) Set {
	return Set{Probe: natsrpc.Logging(log, "health.probe")(func(ctx context.Context, req any) (any, error) {
		st, err := svc.InlineProbe(ctx, req.(*pb.ProbeRequest))
		if err != nil {
			return nil, err
		}
		return &pb.ProbeResponse{Status: st}, nil
	})}
}
