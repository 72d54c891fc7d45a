package telemetry

import (
	"context"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// otlpFromEnv returns an OTLP/HTTP span exporter when the standard
// environment names an endpoint, and nil otherwise. The exporter reads
// every OTEL_EXPORTER_OTLP_* variable itself (endpoint, headers, TLS,
// timeout, compression), so nothing is duplicated here; it connects
// lazily, so a collector that is down costs dropped spans, never a failed
// start.
func otlpFromEnv() (sdktrace.SpanExporter, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	return otlptracehttp.New(context.Background())
}
