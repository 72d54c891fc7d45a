package natsrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/apierr"
)

const tracerName = "github.com/switchyard/switchyard/pkg/natsrpc"

// Route binds one go-kit endpoint to one subject.
type Route struct {
	Name     string
	Subject  string
	Endpoint endpoint.Endpoint
	decode   func([]byte) (any, error)
}

// NewRoute declares a route whose request is the protojson form of Req.
// An empty payload decodes to the zero Req, so `nats req subj ”` works for
// requests without fields.
func NewRoute[Req proto.Message](name, subject string, ep endpoint.Endpoint, newReq func() Req) Route {
	return Route{Name: name, Subject: subject, Endpoint: ep, decode: func(b []byte) (any, error) {
		req := newReq()
		if len(b) == 0 {
			return req, nil
		}
		if err := unmarshal.Unmarshal(b, req); err != nil {
			return nil, apierr.Newf(apierr.InvalidArgument, "request is not valid JSON for %s: %v",
				req.ProtoReflect().Descriptor().FullName(), err)
		}
		return req, nil
	}}
}

var (
	unmarshal = protojson.UnmarshalOptions{DiscardUnknown: false}
	marshal   = protojson.MarshalOptions{UseProtoNames: true}
)

// ServiceConfig names a micro service.
type ServiceConfig struct {
	Name        string
	Version     string
	Description string
	QueueGroup  string
	// Timeout bounds one request's handling (default 30 s).
	Timeout time.Duration
	// MaxConcurrent bounds requests handled at once (default 64); micro
	// delivers one endpoint's messages on one goroutine, so slow handlers
	// (an inline probe) must not serialise the others.
	MaxConcurrent int
	Logger        *slog.Logger
}

// Serve registers routes as endpoints of one micro service on nc.
func Serve(nc *nats.Conn, cfg ServiceConfig, routes ...Route) (micro.Service, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Version == "" {
		cfg.Version = "0.0.0" // micro requires SemVer
	}
	svc, err := micro.AddService(nc, micro.Config{
		Name: cfg.Name, Version: cfg.Version, Description: cfg.Description, QueueGroup: cfg.QueueGroup,
	})
	if err != nil {
		return nil, fmt.Errorf("add micro service %s: %w", cfg.Name, err)
	}
	sem := make(chan struct{}, cfg.MaxConcurrent)
	for _, r := range routes {
		h := &handler{route: r, cfg: cfg, sem: sem}
		if err := svc.AddEndpoint(r.Name, h, micro.WithEndpointSubject(r.Subject)); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("add endpoint %s on %s: %w", r.Name, r.Subject, err)
		}
	}
	// Subscriptions are sent asynchronously; a flush makes sure the server
	// has them before the caller reports ready, so a request from another
	// connection right after Serve returns finds a responder.
	if err := nc.Flush(); err != nil {
		_ = svc.Stop()
		return nil, fmt.Errorf("flush %s subscriptions: %w", cfg.Name, err)
	}
	return svc, nil
}

type handler struct {
	route Route
	cfg   ServiceConfig
	sem   chan struct{}
}

func (h *handler) Handle(req micro.Request) {
	h.sem <- struct{}{}
	go func() {
		defer func() { <-h.sem }()
		h.serve(req)
	}()
}

func (h *handler) serve(req micro.Request) {
	start := time.Now()
	in := nats.Header(req.Headers())
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), headerCarrier(in))
	ctx, span := otel.Tracer(tracerName).Start(ctx, h.route.Subject,
		trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	reply := nats.Header{}
	ctx = context.WithValue(ctx, requestHeadersKey, in)
	ctx = context.WithValue(ctx, replyHeadersKey, reply)

	out, err := h.call(ctx, req.Data())
	if err == nil {
		var data []byte
		if data, err = marshal.Marshal(out); err == nil {
			h.respond(req, data, reply)
			observe(h.cfg.Name, h.route.Subject, "ok", start)
			return
		}
	}
	e := apierr.As(err)
	observe(h.cfg.Name, h.route.Subject, string(e.Code), start)
	span.SetStatus(codes.Error, string(e.Code))
	if e.Code == apierr.Internal {
		h.cfg.Logger.Error("request failed", "subject", h.route.Subject, "err", err)
	}
	reply.Set(HeaderErrorField, e.Field)
	if rerr := req.Error(string(e.Code), e.Message, nil, micro.WithHeaders(micro.Headers(reply))); rerr != nil {
		h.cfg.Logger.Warn("reply failed", "subject", h.route.Subject, "err", rerr)
	}
}

func (h *handler) call(ctx context.Context, data []byte) (proto.Message, error) {
	in, err := h.route.decode(data)
	if err != nil {
		return nil, err
	}
	out, err := h.route.Endpoint(ctx, in)
	if err != nil {
		return nil, err
	}
	msg, ok := out.(proto.Message)
	if !ok {
		return nil, errors.New("endpoint returned a non-proto reply")
	}
	return msg, nil
}

func (h *handler) respond(req micro.Request, data []byte, reply nats.Header) {
	if err := req.Respond(data, micro.WithHeaders(micro.Headers(reply))); err != nil {
		h.cfg.Logger.Warn("reply failed", "subject", h.route.Subject, "err", err)
	}
}

// HeaderErrorField names the request field an InvalidArgument error is about.
const HeaderErrorField = "Sy-Error-Field"
