// Package metrics defines the router's Prometheus metrics and the helpers
// the edge, the rate limiter, the circuit breakers and the usage publisher
// call to record them. Names follow the OpenTelemetry GenAI semantic
// conventions where one exists (gen_ai.client.token.usage becomes
// gen_ai_client_token_usage, durations gain _seconds), and are prefixed
// switchyard_router_ otherwise. Everything registers on Prometheus's
// default registry, which the ops listener serves on /metrics.
//
// Label cardinality: model and service are bounded by what operators
// register; consumer (the key's owner, "anonymous" without keys) appears
// only on counters, never on histograms.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label names: the GenAI semantic-convention attributes with dots turned
// into underscores, and Switchyard's own.
const (
	labelOperation = "gen_ai_operation_name"
	labelProvider  = "gen_ai_provider_name"
	labelModel     = "gen_ai_request_model"
	labelTokenType = "gen_ai_token_type"
	labelErrorType = "error_type"
	labelService   = "service"
	labelConsumer  = "consumer"
	labelStatus    = "http_response_status_code"
	labelOutcome   = "outcome"
)

// Bucket boundaries the GenAI conventions advise.
var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	ttftBuckets     = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	perTokenBuckets = []float64{0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5}
)

// GenAI semantic-convention metrics.
var (
	tokenUsage = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_client_token_usage",
		Help:    "Tokens per upstream call as the upstream reported them (gen_ai.client.token.usage).",
		Buckets: tokenBuckets,
	}, []string{labelOperation, labelProvider, labelModel, labelTokenType, labelService})
	clientDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_client_operation_duration_seconds",
		Help:    "Duration of each upstream attempt, to the end of the answer (gen_ai.client.operation.duration).",
		Buckets: durationBuckets,
	}, []string{labelOperation, labelProvider, labelModel, labelService, labelErrorType})
	serverDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_request_duration_seconds",
		Help:    "Duration of each client request at the edge (gen_ai.server.request.duration).",
		Buckets: durationBuckets,
	}, []string{labelOperation, labelModel, labelService, labelErrorType})
	serverTTFT = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_time_to_first_token_seconds",
		Help:    "Time from the client request to the first answer byte (gen_ai.server.time_to_first_token).",
		Buckets: ttftBuckets,
	}, []string{labelOperation, labelModel, labelService})
	serverPerToken = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_time_per_output_token_seconds",
		Help:    "Streamed answers: time per output token after the first (gen_ai.server.time_per_output_token).",
		Buckets: perTokenBuckets,
	}, []string{labelOperation, labelModel, labelService})
)

// Switchyard's own router metrics.
var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_requests_total",
		Help: "Client requests that reached an upstream, by outcome (complete, upstream_error, client_cancelled, partial, rate_limited).",
	}, []string{labelModel, labelService, labelConsumer, labelStatus, labelOutcome})
	tokens = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_tokens_total",
		Help: "Tokens the upstreams reported, by type (input, output, cached_input, reasoning).",
	}, []string{labelModel, labelService, labelConsumer, labelTokenType})
	refused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_refused_requests_total",
		Help: "Client requests answered before any upstream call (unknown model, bad request, auth, limits).",
	}, []string{"reason", labelStatus})
	inFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_router_inflight_requests",
		Help: "Client requests being served now.",
	})
	upstreamResponses = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_upstream_responses_total",
		Help: "Upstream attempts by service and HTTP status (0: no response; see error_type).",
	}, []string{labelService, labelStatus, labelErrorType, "attempt"})
)
