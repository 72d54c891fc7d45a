// Package credentialtransport serves the credential endpoints on their NATS
// subjects as the "credential" micro service.
package credentialtransport

import (
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/credential/internal/credentialendpoint"
)

// Serve registers the endpoints on nc.
func Serve(nc *nats.Conn, set credentialendpoint.Set, version string, log *slog.Logger) (micro.Service, error) {
	return natsrpc.Serve(nc, natsrpc.ServiceConfig{
		Name: "credential", Version: version, QueueGroup: contract.QueueCredential, Logger: log,
		Description: "provider keys: envelope-encrypted storage and resolution",
	},
		natsrpc.NewRoute("put", contract.SubjCredentialPut, set.Put, func() *pb.PutCredentialRequest { return &pb.PutCredentialRequest{} }),
		natsrpc.NewRoute("delete", contract.SubjCredentialDelete, set.Delete, func() *pb.DeleteCredentialRequest { return &pb.DeleteCredentialRequest{} }),
		natsrpc.NewRoute("resolve", contract.SubjCredentialResolve, set.Resolve, func() *pb.ResolveCredentialRequest { return &pb.ResolveCredentialRequest{} }),
		natsrpc.NewRoute("rotate-master", contract.SubjCredentialsRotate, set.RotateMaster, func() *pb.RotateMasterRequest { return &pb.RotateMasterRequest{} }),
	)
}
