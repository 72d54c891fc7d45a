package natsrpc

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Every service's admin and internal RPCs are measured here, in the one
// place they are all served, so /metrics on every service shows them.
var (
	rpcRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_rpc_server_requests_total",
		Help: "NATS requests served, by micro service, subject and apierr code (\"ok\" on success).",
	}, []string{"service", "subject", "code"})
	rpcDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchyard_rpc_server_duration_seconds",
		Help:    "Time to serve a NATS request, by micro service and subject.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"service", "subject"})
)

func observe(service, subject, code string, start time.Time) {
	rpcRequests.WithLabelValues(service, subject, code).Inc()
	rpcDuration.WithLabelValues(service, subject).Observe(time.Since(start).Seconds())
}
