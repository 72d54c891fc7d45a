package natsrpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
	"github.com/switchyard/switchyard/pkg/natsx"
)

func echo(ctx context.Context, req any) (any, error) {
	r := req.(*pb.GetServiceRequest)
	switch r.GetName() {
	case "missing":
		return nil, apierr.New(apierr.NotFound, "no service named missing")
	case "bad":
		return nil, apierr.Field("name", "must be lowercase")
	case "boom":
		return nil, errors.New("secret internal detail")
	}
	natsrpc.SetReplyHeader(ctx, "X-Echo", natsrpc.RequestHeaders(ctx).Get("X-Tenant"))
	return &pb.GetServiceResponse{Service: &pb.ServiceView{Service: &pb.Service{Name: r.GetName()}}}, nil
}

func TestCallRoundTripErrorsHeadersAndTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "rpc-test")
	_, err := natsrpc.Serve(nc, natsrpc.ServiceConfig{Name: "echo", Version: "0.1.0", QueueGroup: "echo"},
		natsrpc.NewRoute("get", "test.get", echo, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var rep pb.GetServiceResponse
	if err := natsrpc.Call(ctx, nc, "test.get", &pb.GetServiceRequest{Name: "svc-a"}, &rep,
		nats.Header{"X-Tenant": []string{"t1"}}); err != nil {
		t.Fatal(err)
	}
	if rep.GetService().GetService().GetName() != "svc-a" {
		t.Fatalf("reply = %v", &rep)
	}

	cases := []struct {
		name  string
		code  apierr.Code
		field string
	}{{"missing", apierr.NotFound, ""}, {"bad", apierr.InvalidArgument, "name"}, {"boom", apierr.Internal, ""}}
	for _, c := range cases {
		err := natsrpc.Call(ctx, nc, "test.get", &pb.GetServiceRequest{Name: c.name}, &rep)
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Code != c.code || ae.Field != c.field {
			t.Fatalf("%s: err = %#v", c.name, err)
		}
		if c.name == "boom" && ae.Message == "secret internal detail" {
			t.Fatal("internal error detail leaked to the caller")
		}
	}

	err = natsrpc.Call(ctx, nc, "test.nobody", &pb.GetServiceRequest{}, &rep)
	if apierr.CodeOf(err) != apierr.Unavailable {
		t.Fatalf("no responders: %v", err)
	}

	// The server span is a child of the client span: trace context crossed NATS.
	spans := rec.Ended()
	var client, server sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "test.get" && s.SpanKind().String() == "client" && client == nil {
			client = s
		}
		if s.Name() == "test.get" && s.SpanKind().String() == "server" && server == nil {
			server = s
		}
	}
	if client == nil || server == nil || server.Parent().SpanID() != client.SpanContext().SpanID() ||
		server.SpanContext().TraceID() != client.SpanContext().TraceID() {
		t.Fatalf("trace context not propagated (client %v, server %v)", client, server)
	}
}

func TestReplyHeadersAndServiceDiscovery(t *testing.T) {
	ns := natsx.StartTestServer(t)
	nc := natsx.TestConn(t, ns, "rpc-test")
	if _, err := natsrpc.Serve(nc, natsrpc.ServiceConfig{Name: "echo", Version: "0.1.0"},
		natsrpc.NewRoute("get", "test.get", echo, func() *pb.GetServiceRequest { return &pb.GetServiceRequest{} })); err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg("test.get")
	msg.Data = []byte(`{"name":"x"}`)
	msg.Header.Set("X-Tenant", "acme")
	res, err := nc.RequestMsg(msg, 5*time.Second)
	if err != nil || res.Header.Get("X-Echo") != "acme" {
		t.Fatalf("reply header lost: %v %v", err, res.Header)
	}
	ping, err := nc.Request("$SRV.PING.echo", nil, 5*time.Second)
	if err != nil || len(ping.Data) == 0 {
		t.Fatalf("$SRV.PING: %v", err)
	}
	bad, err := nc.Request("test.get", []byte(`{"name":`), 5*time.Second)
	if err != nil || apierr.CodeOf(natsrpc.ReplyError(bad)) != apierr.InvalidArgument {
		t.Fatalf("malformed JSON must be invalid_argument: %v %v", err, bad.Header)
	}
}
