package natsrpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/switchyard/switchyard/pkg/apierr"
)

// Logging is go-kit endpoint middleware that logs each call's method, code
// and duration. It never logs request or reply bodies: they can carry keys.
func Logging(log *slog.Logger, method string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			start := time.Now()
			rep, err := next(ctx, req)
			level := slog.LevelDebug
			if err != nil {
				level = slog.LevelInfo
			}
			log.Log(ctx, level, "rpc", "method", method, "code", string(apierr.CodeOf(err)),
				"took", time.Since(start).Round(time.Microsecond))
			return rep, err
		}
	}
}
