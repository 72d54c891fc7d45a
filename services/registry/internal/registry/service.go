// Package registry is the registry service: the record of every external
// inference service. It validates a registration, asks healthcheck for an
// inline probe before anything is written, has the credential service
// store the key, writes the sy_services KV bucket the router watches, and
// publishes registry events. A failure at any step leaves nothing behind.
//
// Owns: the sy_services and sy_routes (model aliases) KV buckets; reads
// sy_status and sy_keys.
// Serves: sy.admin.v1.services.{register,get,list,update,deregister} and
// sy.admin.v1.aliases.{put,get,list,delete}.
// Calls: sy.rpc.v1.health.probe, sy.rpc.v1.credential.{put,delete}.
// Publishes: sy.evt.registry.<service>.<verb>.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/services/registry/internal/store"
	"github.com/switchyard/switchyard/services/registry/internal/validate"
)

// Service is the registry's API.
type Service interface {
	Register(ctx context.Context, req *pb.RegisterServiceRequest) (*pb.ServiceView, error)
	Get(ctx context.Context, name string) (*pb.ServiceView, error)
	List(ctx context.Context, req *pb.ListServicesRequest) ([]*pb.ServiceView, error)
	Update(ctx context.Context, req *pb.UpdateServiceRequest) (*pb.ServiceView, error)
	Deregister(ctx context.Context, name string) error
	Aliases
}

type service struct {
	store *store.Store
	nc    *nats.Conn
	js    jetstream.JetStream
	log   *slog.Logger
	now   func() time.Time
}

// New returns the registry service.
func New(s *store.Store, nc *nats.Conn, js jetstream.JetStream, log *slog.Logger) Service {
	return &service{store: s, nc: nc, js: js, log: log, now: time.Now}
}

func (s *service) Register(ctx context.Context, req *pb.RegisterServiceRequest) (*pb.ServiceView, error) {
	svc, err := normalise(req.GetService())
	if err != nil {
		return nil, err
	}
	if req.GetCredential().GetSource() == nil {
		return nil, apierr.Field("credential", "an API key is required: pass --api-key, --api-key-env or --api-key-file")
	}
	if _, _, err := s.store.Get(ctx, svc.GetName()); err == nil {
		return nil, apierr.Newf(apierr.AlreadyExists,
			"service %q already exists: edit it with `syctl services update` or deregister it first", svc.GetName())
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, unavailable(err)
	}
	st, err := s.probe(ctx, svc, req.GetCredential())
	if err != nil {
		return nil, err
	}
	svc.CredentialRef = newCredentialRef(svc.GetName())
	if err := s.putCredential(ctx, svc.GetCredentialRef(), req.GetCredential()); err != nil {
		return nil, err
	}
	now := timestamppb.New(s.now())
	svc.CreatedAt, svc.UpdatedAt = now, now
	if err := s.store.Create(ctx, svc); err != nil {
		s.deleteCredential(svc.GetCredentialRef()) // leave nothing behind
		if errors.Is(err, store.ErrExists) {
			return nil, apierr.Newf(apierr.AlreadyExists, "service %q was registered concurrently", svc.GetName())
		}
		return nil, unavailable(err)
	}
	s.publish(ctx, contract.VerbRegistered, svc)
	return &pb.ServiceView{Service: svc, Status: st}, nil
}

// normalise validates a registration and returns the canonical record.
func normalise(in *pb.Service) (*pb.Service, error) {
	v, err := validate.Registration(validateService(in))
	if err != nil {
		return nil, fieldError(err)
	}
	return &pb.Service{
		Name: v.Name, Namespace: v.Namespace, Model: v.Model, BaseUrl: v.BaseURL, Protocol: v.Protocol,
		Functions: v.Functions, Tags: v.Tags, AllowInsecureTls: v.AllowInsecureTLS,
		AzureDeployment: v.AzureDeployment, AzureApiVersion: v.AzureAPIVersion,
		AllowedGroups: v.AllowedGroups, AllowedDomains: v.AllowedDomains, Limits: limitsOf(v),
	}, nil
}

func limitsOf(v validate.Service) *pb.Limits {
	if v.RPM == 0 && v.TPM == 0 {
		return nil
	}
	return &pb.Limits{Rpm: v.RPM, Tpm: v.TPM}
}

// validateService maps a record onto validate's view of it.
func validateService(in *pb.Service) validate.Service {
	return validate.Service{
		Name: in.GetName(), Namespace: in.GetNamespace(), Model: in.GetModel(), BaseURL: in.GetBaseUrl(),
		Protocol: in.GetProtocol(), Functions: in.GetFunctions(), Tags: in.GetTags(),
		AllowInsecureTLS: in.GetAllowInsecureTls(), AzureDeployment: in.GetAzureDeployment(),
		AzureAPIVersion: in.GetAzureApiVersion(),
		AllowedGroups:   in.GetAllowedGroups(), AllowedDomains: in.GetAllowedDomains(),
		RPM: in.GetLimits().GetRpm(), TPM: in.GetLimits().GetTpm(),
	}
}

func fieldError(err error) error {
	var ve *validate.Error
	if errors.As(err, &ve) {
		return apierr.Field(ve.Field, ve.Message)
	}
	return apierr.New(apierr.InvalidArgument, err.Error())
}

// probe asks healthcheck to check svc with the given key and refuses the
// change unless the upstream is Ready.
func (s *service) probe(ctx context.Context, svc *pb.Service, cred *pb.CredentialSource) (*pb.Status, error) {
	var rep pb.ProbeResponse
	if err := natsrpc.Call(ctx, s.nc, contract.SubjHealthProbe,
		&pb.ProbeRequest{Service: svc, Credential: cred}, &rep); err != nil {
		return nil, err
	}
	switch st := rep.GetStatus(); st.GetState() {
	case "Ready":
	case "Unknown": // the check could not run (its key could not be fetched): retryable
		return nil, apierr.Newf(apierr.Unavailable,
			"upstream could not be checked, nothing was changed: %s; retry when the credential service answers", st.GetMessage())
	default:
		return nil, apierr.Newf(apierr.FailedPrecondition,
			"upstream check failed, nothing was changed: %s", st.GetMessage())
	}
	return rep.GetStatus(), nil
}

func (s *service) putCredential(ctx context.Context, ref string, src *pb.CredentialSource) error {
	var rep pb.PutCredentialResponse
	return natsrpc.Call(ctx, s.nc, contract.SubjCredentialPut, &pb.PutCredentialRequest{Name: ref, Source: src}, &rep)
}

// deleteCredential removes a credential on a compensation or cleanup path;
// it outlives the caller's context so a cancelled request still cleans up.
func (s *service) deleteCredential(ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rep pb.DeleteCredentialResponse
	if err := natsrpc.Call(ctx, s.nc, contract.SubjCredentialDelete, &pb.DeleteCredentialRequest{Name: ref}, &rep); err != nil {
		s.log.Error("credential left behind; delete it by hand", "credential", ref, "err", err)
	}
}

// newCredentialRef names a credential record uniquely per write, so a key
// rotation stores the new key beside the old one and switches the record
// over atomically, and concurrent registrations cannot overwrite each
// other's keys.
func newCredentialRef(service string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return service + "~" + hex.EncodeToString(b[:])
}

func (s *service) publish(ctx context.Context, verb string, svc *pb.Service) {
	data, err := proto.Marshal(&pb.RegistryEvent{Verb: verb, Service: svc, Time: timestamppb.New(s.now())})
	if err == nil {
		_, err = s.js.Publish(ctx, contract.RegistryEvent(svc.GetName(), verb), data)
	}
	if err != nil {
		s.log.Warn("publish registry event", "service", svc.GetName(), "verb", verb, "err", err)
	}
}

func unavailable(err error) error {
	return apierr.Newf(apierr.Unavailable, "registry store unavailable: %v", err)
}

func hasAll(list []string, want string) bool { return want == "" || slices.Contains(list, want) }
