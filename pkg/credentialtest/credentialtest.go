// Package credentialtest stands in for the credential service in other
// services' tests: on a real NATS connection it answers
// sy.rpc.v1.credential.resolve with the key the test sets, or says that no
// key is stored, and it can go silent (stopped: requests find no
// responder) and come back, so a test can tell "no answer" from "no key".
package credentialtest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
)

// Server is the stand-in. Its zero value is not usable; call Start.
type Server struct {
	nc      *nats.Conn
	key     atomic.Value // string
	missing atomic.Bool
	mu      sync.Mutex
	ms      micro.Service
}

// Start serves key on nc until the test ends (or Stop).
func Start(t testing.TB, nc *nats.Conn, key string) *Server {
	t.Helper()
	s := &Server{nc: nc}
	s.key.Store(key)
	s.Serve(t)
	t.Cleanup(s.Stop)
	return s
}

// SetKey changes the key resolve answers with.
func (s *Server) SetKey(key string) { s.key.Store(key) }

// SetMissing makes resolve answer not_found (an answer: the key is gone).
func (s *Server) SetMissing(missing bool) { s.missing.Store(missing) }

// Stop stops answering: resolve requests find no responder.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms != nil {
		_ = s.ms.Stop()
		s.ms = nil
	}
}

// Serve answers resolve requests (again, after Stop).
func (s *Server) Serve(t testing.TB) {
	t.Helper()
	resolve := func(context.Context, any) (any, error) {
		if s.missing.Load() {
			return nil, apierr.New(apierr.NotFound, "no credential is stored for this service")
		}
		return &pb.ResolveCredentialResponse{Value: s.key.Load().(string)}, nil
	}
	ms, err := natsrpc.Serve(s.nc, natsrpc.ServiceConfig{Name: "credential", Version: "0.0.1", QueueGroup: "credential"},
		natsrpc.NewRoute("resolve", contract.SubjCredentialResolve, resolve,
			func() *pb.ResolveCredentialRequest { return &pb.ResolveCredentialRequest{} }))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ms = ms
}
