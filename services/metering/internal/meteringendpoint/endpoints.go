// Package meteringendpoint adapts metering's query side to go-kit
// endpoints.
package meteringendpoint

import (
	"context"
	"log/slog"

	"github.com/go-kit/kit/endpoint"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/metering/internal/metering"
)

// Set holds metering's endpoints.
type Set struct {
	Usage endpoint.Endpoint
}

// New builds the endpoints.
func New(q *metering.Query, log *slog.Logger) Set {
	return Set{Usage: natsrpc.Logging(log, "usage.query")(func(ctx context.Context, req any) (any, error) {
		rows, err := q.Usage(ctx, req.(*pb.UsageQueryRequest))
		return &pb.UsageQueryResponse{Rows: rows}, err
	})}
}
