package natsrpc

import (
	"context"
	"net/textproto"

	"github.com/nats-io/nats.go"
)

// headerCarrier adapts NATS headers to OpenTelemetry's TextMapCarrier.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string {
	if v := nats.Header(c).Get(key); v != "" {
		return v
	}
	return nats.Header(c).Get(textproto.CanonicalMIMEHeaderKey(key))
}

func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

type ctxKey int

const (
	requestHeadersKey ctxKey = iota
	replyHeadersKey
)

// RequestHeaders returns the headers of the NATS request being served.
func RequestHeaders(ctx context.Context) nats.Header {
	h, _ := ctx.Value(requestHeadersKey).(nats.Header)
	return h
}

// SetReplyHeader adds a header to the reply of the request being served.
// It is a no-op outside a natsrpc handler.
func SetReplyHeader(ctx context.Context, key, value string) {
	if h, ok := ctx.Value(replyHeadersKey).(nats.Header); ok {
		h.Set(key, value)
	}
}
