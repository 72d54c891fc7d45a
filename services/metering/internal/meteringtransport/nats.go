// Package meteringtransport serves metering's endpoints on NATS as the
// "metering" micro service.
package meteringtransport

import (
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/metering/internal/meteringendpoint"
)

// Serve registers the endpoints on nc.
func Serve(nc *nats.Conn, set meteringendpoint.Set, version string, log *slog.Logger) (micro.Service, error) {
	return natsrpc.Serve(nc, natsrpc.ServiceConfig{
		Name: "metering", Version: version, QueueGroup: contract.QueueMetering, Logger: log,
		Description: "usage rollups and queries",
	},
		natsrpc.NewRoute("usage-query", contract.SubjUsageQuery, set.Usage, func() *pb.UsageQueryRequest { return &pb.UsageQueryRequest{} }),
	)
}
