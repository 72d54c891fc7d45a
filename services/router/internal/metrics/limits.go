package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Rate-limit, circuit and usage-publisher metrics.
var (
	rateLimited = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_ratelimit_rejections_total",
		Help: "Requests refused with 429 by a rate limit, by scope (key, key_model, service) and kind (requests, tokens).",
	}, []string{"scope", "kind", labelConsumer, labelModel})
	rateLimitBackend = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchyard_router_ratelimit_backend_duration_seconds",
		Help:    "Time of one rate-limit backend call (memory or redis).",
		Buckets: []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1},
	}, []string{"backend"})
	rateLimitFailOpen = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_ratelimit_failopen_total",
		Help: "Admissions decided by the local fallback limiter because the shared backend was down or slow.",
	}, []string{"backend"})
	circuitState = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "switchyard_router_circuit_state",
		Help: "Circuit breaker state per service: 0 closed, 1 half-open, 2 open.",
	}, []string{labelService})
	circuitTransitions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_circuit_transitions_total",
		Help: "Circuit breaker state changes per service, by the state entered.",
	}, []string{labelService, "to"})
)

// Usage-publisher metrics; the usage package updates them.
var (
	UsagePublished = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_router_usage_events_published_total",
		Help: "Usage events JetStream acknowledged (duplicates included).",
	})
	UsageRetries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_router_usage_publish_retries_total",
		Help: "Usage publish attempts that failed and were retried with the same Nats-Msg-Id.",
	})
	UsageDropped = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_router_usage_events_dropped_total",
		Help: "Usage events lost before reaching JetStream, by reason (queue_full, spool_full, spool_error, shutdown).",
	}, []string{"reason"})
	UsageQueued = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_router_usage_events_queued",
		Help: "Usage events accepted and not yet acknowledged by JetStream (memory plus spool).",
	})
	UsageSpooled = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_router_usage_events_spooled_total",
		Help: "Usage events written and fsynced to the on-disk spool.",
	})
	UsageReplayed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_router_usage_events_replayed_total",
		Help: "Usage events found in the spool at start (left by a crash or a drain timeout) and published again.",
	})
	UsageSpoolBytes = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_router_usage_spool_bytes",
		Help: "Bytes in the usage spool on disk.",
	})
)

// Rate-limit scopes and kinds for RateLimited.
const (
	ScopeKey      = "key"
	ScopeKeyModel = "key_model"
	ScopeService  = "service"
	KindRequests  = "requests"
	KindTokens    = "tokens"
)

// RateLimited counts one request refused with 429 by the limit of scope
// and kind.
func RateLimited(scope, kind, consumer, model string) {
	rateLimited.WithLabelValues(scope, kind, consumer, model).Inc()
}

// RateLimitBackendCall records one call to a rate-limit backend ("memory"
// or "redis") and whether it failed open to the local limiter.
func RateLimitBackendCall(backend string, took time.Duration, failedOpen bool) {
	rateLimitBackend.WithLabelValues(backend).Observe(took.Seconds())
	if failedOpen {
		rateLimitFailOpen.WithLabelValues(backend).Inc()
	}
}

// Circuit states for CircuitChanged.
const (
	CircuitClosed   = 0
	CircuitHalfOpen = 1
	CircuitOpen     = 2
)

// CircuitChanged records that service's breaker entered state (one of the
// Circuit constants).
func CircuitChanged(service string, state int) {
	circuitState.WithLabelValues(service).Set(float64(state))
	circuitTransitions.WithLabelValues(service, circuitName(state)).Inc()
}

func circuitName(state int) string {
	switch state {
	case CircuitOpen:
		return "open"
	case CircuitHalfOpen:
		return "half_open"
	}
	return "closed"
}

// ForgetService drops a deregistered service's circuit gauge.
func ForgetService(service string) {
	circuitState.DeleteLabelValues(service)
}
