package registry

import (
	"context"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/registry/declarative"
	"github.com/switchyard/switchyard/services/registry/internal/store"
)

// ConfigAPI lets the config file reloader drive this registry in-process,
// through the same methods the admin subjects call, so a declared service
// passes every validation rule and probe a `syctl services register` does.
type ConfigAPI struct {
	Svc   Service
	Store *store.Store
}

var _ declarative.API = ConfigAPI{}

// ListServices returns every service record.
func (a ConfigAPI) ListServices(ctx context.Context) ([]*pb.Service, error) {
	views, err := a.Svc.List(ctx, &pb.ListServicesRequest{})
	out := make([]*pb.Service, len(views))
	for i, v := range views {
		out[i] = v.GetService()
	}
	return out, err
}

// Register registers (probe first).
func (a ConfigAPI) Register(ctx context.Context, req *pb.RegisterServiceRequest) error {
	_, err := a.Svc.Register(ctx, req)
	return err
}

// Update updates (a new key is probed first).
func (a ConfigAPI) Update(ctx context.Context, req *pb.UpdateServiceRequest) error {
	_, err := a.Svc.Update(ctx, req)
	return err
}

// Deregister deregisters (refused while referenced).
func (a ConfigAPI) Deregister(ctx context.Context, name string) error {
	return a.Svc.Deregister(ctx, name)
}

// ListAliases returns every alias.
func (a ConfigAPI) ListAliases(ctx context.Context) ([]*pb.ModelAlias, error) {
	return a.Svc.ListAliases(ctx)
}

// PutAlias creates or replaces an alias.
func (a ConfigAPI) PutAlias(ctx context.Context, alias *pb.ModelAlias) error {
	_, err := a.Svc.PutAlias(ctx, alias)
	return err
}

// DeleteAlias removes an alias.
func (a ConfigAPI) DeleteAlias(ctx context.Context, name string) error {
	return a.Svc.DeleteAlias(ctx, name)
}

// CredentialSource reads where ref's key comes from.
func (a ConfigAPI) CredentialSource(ctx context.Context, ref string) (declarative.StoredSource, bool, error) {
	data, found, err := a.Store.CredentialRecord(ctx, ref)
	if err != nil || !found {
		return declarative.StoredSource{}, false, err
	}
	src, err := declarative.DecodeStoredSource(data)
	return src, err == nil, err
}
