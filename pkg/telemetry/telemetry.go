// Package telemetry sets up what every Switchyard process reports about
// itself: a structured slog logger and the OpenTelemetry tracer provider and
// W3C trace-context propagator that pkg/natsrpc and the router use.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string // debug, info, warn, error
	Format string // text or json
}

// NewLogger builds the process logger.
func NewLogger(w io.Writer, c LogConfig) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(orDefault(c.Level, "info"))); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(orDefault(c.Format, "text")) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", c.Format)
}

// SetupTracing installs a tracer provider for serviceName and the W3C
// propagator. Spans are exported over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, configured by the standard OTEL_EXPORTER_OTLP_* variables (see
// docs/metering.md); without one spans still carry trace ids across NATS
// and HTTP hops. The returned function flushes and stops the provider.
func SetupTracing(serviceName string, processors ...sdktrace.SpanProcessor) func(context.Context) error {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(serviceName))),
	}
	if exp, err := otlpFromEnv(); err != nil {
		slog.Error("OTLP trace export disabled", "err", err)
	} else if exp != nil {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, p := range processors {
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
