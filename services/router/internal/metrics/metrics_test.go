package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestObserveUsage(t *testing.T) {
	tests := []struct {
		name       string
		ev         *pb.UsageEvent
		wantInput  float64
		wantOutput float64
	}{
		{"complete stream", &pb.UsageEvent{Model: "m1", Service: "s1", Consumer: "c1", Protocol: "OPENAI_V1", StatusCode: 200,
			Outcome: "complete", PromptTokens: 11, CompletionTokens: 7, LatencyMs: 900, TtftMs: 100, Stream: true}, 11, 7},
		{"rate limited counts no tokens", &pb.UsageEvent{Model: "m2", Service: "s1", Consumer: "c1", StatusCode: 429,
			Outcome: "rate_limited", PromptTokens: 5}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ObserveUsage(tt.ev)
			ev := tt.ev
			if got := testutil.ToFloat64(requests.WithLabelValues(ev.GetModel(), ev.GetService(), ev.GetConsumer(),
				itoa(ev.GetStatusCode()), ev.GetOutcome())); got != 1 {
				t.Fatalf("requests = %v; want 1", got)
			}
			if got := testutil.ToFloat64(tokens.WithLabelValues(ev.GetModel(), ev.GetService(), ev.GetConsumer(), "input")); got != tt.wantInput {
				t.Fatalf("input tokens = %v; want %v", got, tt.wantInput)
			}
			if got := testutil.ToFloat64(tokens.WithLabelValues(ev.GetModel(), ev.GetService(), ev.GetConsumer(), "output")); got != tt.wantOutput {
				t.Fatalf("output tokens = %v; want %v", got, tt.wantOutput)
			}
		})
	}
	if n := testutil.CollectAndCount(serverPerToken); n == 0 {
		t.Fatal("a streamed answer recorded no time per output token")
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestLimitsAndCircuits(t *testing.T) {
	RateLimited(ScopeKey, KindTokens, "c9", "m9")
	if got := testutil.ToFloat64(rateLimited.WithLabelValues(ScopeKey, KindTokens, "c9", "m9")); got != 1 {
		t.Fatalf("rate-limit rejections = %v; want 1", got)
	}
	CircuitChanged("s9", CircuitOpen)
	if got := testutil.ToFloat64(circuitState.WithLabelValues("s9")); got != CircuitOpen {
		t.Fatalf("circuit state = %v; want open", got)
	}
	if got := testutil.ToFloat64(circuitTransitions.WithLabelValues("s9", "open")); got != 1 {
		t.Fatalf("transitions to open = %v; want 1", got)
	}
}

func TestSpansLinkRequestAndUpstream(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(prev)

	req := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	otel.SetTextMapPropagator(propagationForTest())
	ctx, span := StartRequestSpan(req, OperationChat, "m1")
	_, up := StartUpstreamSpan(ctx, OperationChat, "m1", "s1", "ANTHROPIC_V1", "first")
	EndUpstreamSpan(up, 503, errors.New("upstream 503"))
	EndRequestSpan(span, &pb.UsageEvent{RequestId: "r1", Outcome: "upstream_error", StatusCode: 502})
	_ = tp.Shutdown(context.Background())

	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans; want 2", len(spans))
	}
	upstream, request := spans[0], spans[1]
	if request.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("request span did not continue the caller's trace: %s", request.SpanContext().TraceID())
	}
	if upstream.Parent().SpanID() != request.SpanContext().SpanID() {
		t.Fatal("upstream span is not a child of the request span")
	}
	if upstream.Status().Code != codes.Error || request.Status().Code != codes.Error {
		t.Fatal("failed attempt and request not marked as errors")
	}
}

func propagationForTest() propagation.TextMapPropagator { return propagation.TraceContext{} }
