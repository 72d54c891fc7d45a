package metrics

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// tracerName is the instrumentation scope of the router's spans.
const tracerName = "github.com/switchyard/switchyard/services/router"

func tracer() trace.Tracer { return otel.Tracer(tracerName) }

// defaultProvider is otel's global provider before anyone installed one.
// While it is still the global provider nothing records spans, and the
// span helpers skip building names and attributes (8 allocations a
// request).
var defaultProvider = otel.GetTracerProvider()

func tracing() bool { return otel.GetTracerProvider() != defaultProvider }

// StartRequestSpan starts the server span of one client request, as a
// child of the caller's W3C traceparent when it sent one. The span is
// named "<operation> <model>" as the GenAI conventions ask. End it with
// EndRequestSpan.
func StartRequestSpan(r *http.Request, operation, model string) (context.Context, trace.Span) {
	ctx := r.Context()
	if !tracing() && r.Header.Get("Traceparent") == "" {
		return ctx, trace.SpanFromContext(ctx) // a no-op span
	}
	ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	if !tracing() {
		return ctx, trace.SpanFromContext(ctx) // the caller's trace still reaches own upstreams
	}
	return tracer().Start(ctx, operation+" "+model, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("gen_ai.operation.name", operation),
			attribute.String("gen_ai.request.model", model),
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
		))
}

// EndRequestSpan ends a request span with what the usage event says:
// request id, service, status, tokens and outcome.
func EndRequestSpan(span trace.Span, ev *pb.UsageEvent) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		attribute.String("switchyard.request_id", ev.GetRequestId()),
		attribute.String("switchyard.service", ev.GetService()),
		attribute.String("switchyard.outcome", ev.GetOutcome()),
		attribute.Int("http.response.status_code", int(ev.GetStatusCode())),
		attribute.Int64("gen_ai.usage.input_tokens", ev.GetPromptTokens()),
		attribute.Int64("gen_ai.usage.output_tokens", ev.GetCompletionTokens()),
	)
	if ev.GetOutcome() != "complete" {
		span.SetStatus(codes.Error, ev.GetOutcome())
	}
	span.End()
}

// StartUpstreamSpan starts the client span of one upstream attempt under
// the request span in ctx. Each attempt (first, retry, fallback) gets its
// own span. End it with EndUpstreamSpan.
func StartUpstreamSpan(ctx context.Context, operation, model, service, protocol, attempt string) (context.Context, trace.Span) {
	if !tracing() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return tracer().Start(ctx, operation+" "+model, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("gen_ai.operation.name", operation),
			attribute.String("gen_ai.request.model", model),
			attribute.String("gen_ai.provider.name", ProviderName(protocol)),
			attribute.String("switchyard.service", service),
			attribute.String("switchyard.attempt", attempt),
		))
}

// EndUpstreamSpan ends an upstream span with the HTTP status (0 when none)
// and the error, if the attempt failed.
func EndUpstreamSpan(span trace.Span, status int, err error) {
	if !span.IsRecording() {
		return
	}
	if status > 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	switch {
	case err != nil:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	case status >= 400:
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// InjectTraceContext writes ctx's traceparent into an outgoing request's
// headers. Use it only for upstreams that are yours (vLLM, another
// Switchyard): third-party providers need not see your trace ids.
func InjectTraceContext(ctx context.Context, h http.Header) {
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
}
