package natsrpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/apierr"
)

// DefaultCallTimeout applies when ctx has no deadline.
const DefaultCallTimeout = 30 * time.Second

// Call sends req to subject and decodes the reply into rep. Trace context is
// injected into the request headers; a micro error reply becomes an
// *apierr.Error with the code the server sent. headers, if given, are sent
// with the request.
func Call(ctx context.Context, nc *nats.Conn, subject string, req, rep proto.Message, headers ...nats.Header) error {
	data, err := marshal.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", subject, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	ctx, span := otel.Tracer(tracerName).Start(ctx, subject, trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	msg := nats.NewMsg(subject)
	msg.Data = data
	for _, h := range headers {
		for k, v := range h {
			msg.Header[k] = v
		}
	}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(msg.Header))
	res, err := nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return transportError(subject, err)
	}
	if err := ReplyError(res); err != nil {
		return err
	}
	if err := unmarshal.Unmarshal(res.Data, rep); err != nil {
		return fmt.Errorf("decode %s reply: %w", subject, err)
	}
	return nil
}

// ReplyError returns the *apierr.Error carried by a micro error reply, or nil.
func ReplyError(res *nats.Msg) error {
	code := res.Header.Get(micro.ErrorCodeHeader)
	if code == "" {
		return nil
	}
	return &apierr.Error{
		Code:    apierr.Code(code),
		Message: res.Header.Get(micro.ErrorHeader),
		Field:   res.Header.Get(HeaderErrorField),
	}
}

func transportError(subject string, err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return apierr.Newf(apierr.Unavailable,
			"no service answers on %s: start the service that owns it (see `switchyard -list-targets`)", subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return apierr.Newf(apierr.DeadlineExceeded, "no reply on %s in time: the service is overloaded or stuck", subject)
	}
	return apierr.Newf(apierr.Unavailable, "request on %s failed: %v", subject, err)
}
