// Package registrytransport serves the registry endpoints (services and
// model aliases) on the admin subjects as the "registry" micro service.
package registrytransport

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/registry/internal/registryendpoint"
)

// Serve registers the endpoints on nc.
func Serve(nc *nats.Conn, set registryendpoint.Set, version string, log *slog.Logger) (micro.Service, error) {
	return natsrpc.Serve(nc, natsrpc.ServiceConfig{
		Name: "registry", Version: version, QueueGroup: contract.QueueRegistry, Logger: log,
		Description: "the record of every external inference service",
		Timeout:     45 * time.Second, // covers an inline probe's timeout
	},
		natsrpc.NewRoute("register", contract.SubjServicesRegister, set.Register, func() *pb.RegisterServiceRequest { return &pb.RegisterServiceRequest{} }),
		natsrpc.NewRoute("get", contract.SubjServicesGet, set.Get, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} }),
		natsrpc.NewRoute("list", contract.SubjServicesList, set.List, func() *pb.ListServicesRequest { return &pb.ListServicesRequest{} }),
		natsrpc.NewRoute("update", contract.SubjServicesUpdate, set.Update, func() *pb.UpdateServiceRequest { return &pb.UpdateServiceRequest{} }),
		natsrpc.NewRoute("deregister", contract.SubjServicesDeregister, set.Deregister, func() *pb.DeregisterServiceRequest { return &pb.DeregisterServiceRequest{} }),
		natsrpc.NewRoute("aliases-put", contract.SubjAliasesPut, set.AliasPut, func() *pb.PutAliasRequest { return &pb.PutAliasRequest{} }),
		natsrpc.NewRoute("aliases-get", contract.SubjAliasesGet, set.AliasGet, func() *pb.GetAliasRequest { return &pb.GetAliasRequest{} }),
		natsrpc.NewRoute("aliases-list", contract.SubjAliasesList, set.AliasList, func() *pb.ListAliasesRequest { return &pb.ListAliasesRequest{} }),
		natsrpc.NewRoute("aliases-delete", contract.SubjAliasesDelete, set.AliasDelete, func() *pb.DeleteAliasRequest { return &pb.DeleteAliasRequest{} }),
	)
}
