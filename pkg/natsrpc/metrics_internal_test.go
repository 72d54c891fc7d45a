package natsrpc

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsx"
)

func TestServedRequestsAreCountedByCode(t *testing.T) {
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "metrics-test")
	ep := func(_ context.Context, req any) (any, error) {
		if req.(*pb.GetServiceRequest).GetName() == "missing" {
			return nil, apierr.New(apierr.NotFound, "no such service")
		}
		return &pb.GetServiceResponse{}, nil
	}
	if _, err := Serve(nc, ServiceConfig{Name: "metered"},
		NewRoute("get", "metered.get", ep, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} })); err != nil {
		t.Fatal(err)
	}
	var rep pb.GetServiceResponse
	_ = Call(context.Background(), nc, "metered.get", &pb.GetServiceRequest{Name: "a"}, &rep)
	_ = Call(context.Background(), nc, "metered.get", &pb.GetServiceRequest{Name: "missing"}, &rep)
	_ = Call(context.Background(), nc, "metered.get", &pb.GetServiceRequest{Name: "missing"}, &rep)
	if ok := testutil.ToFloat64(rpcRequests.WithLabelValues("metered", "metered.get", "ok")); ok != 1 {
		t.Fatalf("ok count = %v", ok)
	}
	if nf := testutil.ToFloat64(rpcRequests.WithLabelValues("metered", "metered.get", string(apierr.NotFound))); nf != 2 {
		t.Fatalf("not_found count = %v", nf)
	}
}
