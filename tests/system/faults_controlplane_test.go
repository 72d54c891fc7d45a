package system

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
)

// TEST-PLAN F13/F14: with registry, credential and healthcheck stopped the
// edge keeps serving existing routes from its cache (routes, decrypted
// keys, last health) with zero errors, and an admin change is refused at
// once with a clear "no service answers", not lost.
func TestControlPlaneDownEdgeServesFromCache(t *testing.T) {
	const controlPlaneOutage = 15 * time.Second
	s := stackFor(t)
	k := s.newKey(t, "f14@example.com", 0)
	edges := s.waitBothServe(t, k)
	stopped := []string{"registry", "credential", "healthcheck"}
	for _, name := range stopped {
		if err := s.boxes[name].stop(); err != nil {
			t.Fatal(err)
		}
	}
	wait := loadFor(controlPlaneOutage, edges, k, fastModel, 4)
	refusedIn, refusal := s.tryRegister(t)
	seen := wait()
	began := time.Now()
	for _, name := range stopped {
		if err := s.boxes[name].start(); err != nil {
			t.Fatal(err)
		}
	}
	s.requireHealthy(t)
	recovery := time.Since(began)
	m := s.meter(t, k, seen)
	report(t, "F13/F14 control plane down "+controlPlaneOutage.String(), seen, m,
		"admin register refused in "+refusedIn.Round(time.Millisecond).String()+" ("+refusal+"), services back and ready in "+recovery.Round(100*time.Millisecond).String())
	if seen.errors != 0 || m.lost != 0 || m.duplicated != 0 || seen.requests < 20 {
		t.Fatalf("want 0 errors, 0 lost, 0 duplicated over at least 20 requests")
	}
}

// tryRegister asks for a change with registry down: it must fail fast
// and say that nothing answers.
func (s *stack) tryRegister(t *testing.T) (time.Duration, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	err := natsrpc.Call(ctx, s.admin, contract.SubjServicesRegister, &pb.RegisterServiceRequest{
		Service: &pb.Service{Name: "while-down", Model: "m", BaseUrl: "http://upstream:9000", Protocol: "OPENAI_V1"}},
		&pb.RegisterServiceResponse{})
	took := time.Since(began)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.Unavailable || !strings.Contains(ae.Message, "no service answers") {
		t.Errorf("register with registry down: %v, want Unavailable \"no service answers\"", err)
		return took, "unexpected"
	}
	if took > 2*time.Second {
		t.Errorf("the refusal took %v; it should be immediate (no responders)", took)
	}
	return took, string(ae.Code)
}

// waitBothServe waits until both routers accept k and returns their edges.
func (s *stack) waitBothServe(t *testing.T, k key) []string {
	t.Helper()
	for _, r := range []string{"router-1", "router-2"} {
		if err := s.waitServes(r, k, fastModel); err != nil {
			t.Fatal(err)
		}
	}
	return []string{s.edge("router-1"), s.edge("router-2")}
}
