package metrics

import (
	"strconv"
	"strings"
	"time"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// OperationChat is the GenAI operation name of chat completions, assumed
// for an event that names no operation.
const OperationChat = "chat"

// operationOf is the event's GenAI operation name.
func operationOf(ev *pb.UsageEvent) string {
	if op := ev.GetOperation(); op != "" {
		return op
	}
	return OperationChat
}

// ObserveUsage records one finished client request from its usage event:
// the request counter, tokens per consumer, the token-usage histogram, the
// edge's request duration, time to first token and, for streams, time per
// output token. The usage publisher calls it for every event, so the edge
// need not.
func ObserveUsage(ev *pb.UsageEvent) {
	model, service, consumer := ev.GetModel(), ev.GetService(), ev.GetConsumer()
	status := strconv.Itoa(int(ev.GetStatusCode()))
	requests.WithLabelValues(model, service, consumer, status, ev.GetOutcome()).Inc()
	if ev.GetOutcome() == "rate_limited" {
		return
	}
	provider, op := ProviderName(ev.GetProtocol()), operationOf(ev)
	counts := []struct {
		kind string
		n    int64
	}{
		{"input", ev.GetPromptTokens()}, {"output", ev.GetCompletionTokens()},
		{"cached_input", ev.GetCachedTokens()}, {"reasoning", ev.GetReasoningTokens()},
	}
	for _, c := range counts {
		if c.n <= 0 {
			continue
		}
		tokens.WithLabelValues(model, service, consumer, c.kind).Add(float64(c.n))
		if c.kind == "input" || c.kind == "output" {
			tokenUsage.WithLabelValues(op, provider, model, c.kind, service).Observe(float64(c.n))
		}
	}
	latency := time.Duration(ev.GetLatencyMs()) * time.Millisecond
	serverDuration.WithLabelValues(op, model, service, errorType(ev)).Observe(latency.Seconds())
	if ev.GetTtftMs() > 0 {
		ttft := time.Duration(ev.GetTtftMs()) * time.Millisecond
		serverTTFT.WithLabelValues(op, model, service).Observe(ttft.Seconds())
		if ev.GetStream() && ev.GetCompletionTokens() > 1 && latency > ttft {
			per := (latency - ttft).Seconds() / float64(ev.GetCompletionTokens()-1)
			serverPerToken.WithLabelValues(op, model, service).Observe(per)
		}
	}
}

// errorType is the GenAI error.type of a finished request: "" when it
// completed, else its outcome.
func errorType(ev *pb.UsageEvent) string {
	if ev.GetOutcome() == "complete" {
		return ""
	}
	return ev.GetOutcome()
}

// ObserveUpstream records one upstream attempt: its HTTP status (0 when
// there was no response), errType ("" on success; e.g. "timeout",
// "connect", "http_5xx"), how long it took, and whether it was the first
// attempt, a retry or a fallback to another service ("first", "retry",
// "fallback").
func ObserveUpstream(service, protocol, model string, status int, errType string, took time.Duration, attempt string) {
	ObserveUpstreamOp(OperationChat, service, protocol, model, status, errType, took, attempt)
}

// ObserveUpstreamOp is ObserveUpstream for a named GenAI operation
// (chat, completions, embeddings, passthrough).
func ObserveUpstreamOp(operation, service, protocol, model string, status int, errType string, took time.Duration, attempt string) {
	upstreamResponses.WithLabelValues(service, strconv.Itoa(status), errType, attempt).Inc()
	clientDuration.WithLabelValues(operation, ProviderName(protocol), model, service, errType).Observe(took.Seconds())
}

// Refused counts a client request answered before any upstream call;
// reason is a short stable word ("model_not_found", "bad_request",
// "body_too_large", "unauthorized", "forbidden", "no_usable_route", ...).
func Refused(reason string, status int) {
	refused.WithLabelValues(reason, strconv.Itoa(status)).Inc()
}

// RequestStarted marks a client request in flight; call the returned
// function when it ends.
func RequestStarted() func() {
	inFlight.Inc()
	return inFlight.Dec
}

// ProviderName maps a Switchyard protocol to the GenAI gen_ai.provider.name
// value.
func ProviderName(protocol string) string {
	switch protocol {
	case "OPENAI_V1":
		return "openai"
	case "ANTHROPIC_V1":
		return "anthropic"
	case "GEMINI_V1_BETA":
		return "gcp.gemini"
	case "AZURE_OPENAI":
		return "azure.ai.openai"
	}
	return strings.ToLower(protocol)
}
