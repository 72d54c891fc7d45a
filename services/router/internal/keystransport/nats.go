// Package keystransport serves the consumer key endpoints on the admin
// subjects sy.admin.v1.keys.{create,list,revoke,update} as the router's
// "keys" micro service. Admin subjects are reachable over NATS only; the
// HTTP edge has no admin routes, so a consumer key can never call them.
package keystransport

import (
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/router/internal/keysendpoint"
)

// Serve registers the endpoints on nc; every router replica serves them in
// the router queue group.
func Serve(nc *nats.Conn, set keysendpoint.Set, version string, log *slog.Logger) (micro.Service, error) {
	return natsrpc.Serve(nc, natsrpc.ServiceConfig{
		Name: "keys", Version: version, QueueGroup: contract.QueueRouter, Logger: log,
		Description: "consumer keys: shown once, stored as SHA-256 hashes",
	},
		natsrpc.NewRoute("create", contract.SubjKeysCreate, set.Create, func() *pb.CreateKeyRequest { return &pb.CreateKeyRequest{} }),
		natsrpc.NewRoute("list", contract.SubjKeysList, set.List, func() *pb.ListKeysRequest { return &pb.ListKeysRequest{} }),
		natsrpc.NewRoute("revoke", contract.SubjKeysRevoke, set.Revoke, func() *pb.RevokeKeyRequest { return &pb.RevokeKeyRequest{} }),
		natsrpc.NewRoute("update", contract.SubjKeysUpdate, set.Update, func() *pb.UpdateKeyRequest { return &pb.UpdateKeyRequest{} }),
	)
}
