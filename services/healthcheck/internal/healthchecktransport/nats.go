// Package healthchecktransport serves the healthcheck endpoints on NATS as
// the "healthcheck" micro service.
package healthchecktransport

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/healthcheck/internal/healthcheckendpoint"
)

// Serve registers the endpoints on nc.
func Serve(nc *nats.Conn, set healthcheckendpoint.Set, version string, probeTimeout time.Duration, log *slog.Logger) (micro.Service, error) {
	return natsrpc.Serve(nc, natsrpc.ServiceConfig{
		Name: "healthcheck", Version: version, QueueGroup: contract.QueueHealthcheck, Logger: log,
		Description: "probes external inference services and keeps their status",
		Timeout:     probeTimeout + 5*time.Second,
	},
		natsrpc.NewRoute("probe", contract.SubjHealthProbe, set.Probe, func() *pb.ProbeRequest { return &pb.ProbeRequest{} }),
	)
}
