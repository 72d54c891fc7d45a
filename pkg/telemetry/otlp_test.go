package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

// TestSetupTracingExportsOverOTLP points OTEL_EXPORTER_OTLP_ENDPOINT at a
// real HTTP collector stand-in and checks that a span arrives on
// /v1/traces when the provider shuts down.
func TestSetupTracingExportsOverOTLP(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" && len(body) > 0 {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	shutdown := SetupTracing("telemetry-test")
	_, span := otel.Tracer("test").Start(context.Background(), "one span")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if posts.Load() == 0 {
		t.Fatal("no span exported to the OTLP endpoint")
	}
}

func TestSetupTracingWithoutEndpointExportsNothing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	exp, err := otlpFromEnv()
	if err != nil || exp != nil {
		t.Fatalf("otlpFromEnv() = %v, %v; want no exporter", exp, err)
	}
	before := otel.GetTracerProvider()
	shutdown := SetupTracing("telemetry-test")
	defer func() { _ = shutdown(context.Background()) }()
	if otel.GetTracerProvider() != before {
		t.Fatal("SetupTracing installed a recording provider with nowhere to send spans")
	}
	if fields := otel.GetTextMapPropagator().Fields(); !slices.Contains(fields, "traceparent") {
		t.Fatalf("propagator fields = %v; want traceparent passed on", fields)
	}
}
