package healthcheck

import (
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/outbound"
	"github.com/switchyard/switchyard/pkg/provider"
	"github.com/switchyard/switchyard/services/healthcheck/internal/probe"
)

// Prober resolves a service's key through the credential service and runs
// the protocol's cheap probe through the SSRF-guarded outbound client.
type Prober struct {
	nc       *nats.Conn
	secure   *http.Client
	insecure *http.Client
	timeout  time.Duration
	now      func() time.Time
}

// NewProber builds the two outbound clients (verified and, for services
// that set allow-insecure-TLS, unverified) from one policy.
func NewProber(nc *nats.Conn, policy outbound.Policy, timeout time.Duration) *Prober {
	opts := outbound.Options{ResponseHeaderTimeout: timeout}
	insecure := opts
	insecure.InsecureSkipVerify = true
	return &Prober{
		nc: nc, timeout: timeout, now: time.Now,
		secure:   outbound.NewClient(policy, opts),
		insecure: outbound.NewClient(policy, insecure),
	}
}

// Probe checks svc with the key from src, or its stored key when src is
// nil. It always returns a status: failures to obtain the key are statuses
// too, so a person sees why a service is down.
func (p *Prober) Probe(ctx context.Context, svc *pb.Service, src *pb.CredentialSource) *pb.Status {
	key, err := p.resolve(ctx, svc, src)
	if err != nil {
		return p.status(svc, keyNotObtained(err))
	}
	client := p.secure
	if svc.GetAllowInsecureTls() {
		client = p.insecure
	}
	res := probe.Probe(ctx, client, probe.Target{
		Protocol: provider.Protocol(svc.GetProtocol()), BaseURL: svc.GetBaseUrl(), Model: svc.GetModel(),
		APIKey: key, AzureDeployment: svc.GetAzureDeployment(), AzureAPIVersion: svc.GetAzureApiVersion(),
		Timeout: p.timeout,
	})
	return p.status(svc, res)
}

// keyNotObtained is the result of a probe that could not get its key.
// The credential service's answer that the key cannot be had (missing,
// unset, unreadable, undecryptable) makes the service Failed. Not getting
// an answer at all (the credential service down, overloaded or cut off by
// a NATS fault) says nothing about the upstream: the status is Unknown,
// which the edge keeps routing to, rather than a Failed that would turn
// every consumer away from a working upstream for a whole refresh round
// (record keeps a verified state over it).
func keyNotObtained(err error) probe.Result {
	e := apierr.As(err)
	if apierr.Transient(err) {
		return probe.Result{Status: probe.StatusUnknown, Message: "not checked: the API key could not be fetched (" +
			e.Message + "); the next probe round tries again"}
	}
	return probe.Result{Status: probe.StatusFailed, Kind: provider.KindCredentialUnresolvable,
		Message: provider.MsgCredential + ": " + e.Message}
}

func (p *Prober) resolve(ctx context.Context, svc *pb.Service, src *pb.CredentialSource) (string, error) {
	if v, ok := src.GetSource().(*pb.CredentialSource_Value); ok {
		return v.Value, nil
	}
	name := svc.GetCredentialRef()
	if name == "" {
		name = svc.GetName()
	}
	var rep pb.ResolveCredentialResponse
	err := natsrpc.Call(ctx, p.nc, contract.SubjCredentialResolve,
		&pb.ResolveCredentialRequest{Name: name, Source: src}, &rep)
	return rep.GetValue(), err
}

func (p *Prober) status(svc *pb.Service, r probe.Result) *pb.Status {
	probeResults.WithLabelValues(svc.GetProtocol(), string(r.Status)).Inc()
	now := timestamppb.New(p.now())
	return &pb.Status{
		Service: svc.GetName(), State: string(r.Status), Message: r.Message,
		HttpStatus: int32(r.HTTPStatus), Host: r.Host, CheckedAt: now, TransitionedAt: now,
		KeyVerified: r.KeyVerified, Note: r.Note,
	}
}
