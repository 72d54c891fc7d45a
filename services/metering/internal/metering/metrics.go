package metering

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Prometheus metrics, on the ops listener's /metrics. They are
// process-wide: several metering instances in one process (tests) share
// them, so tests read a Consumer's Stats instead.
var (
	metricApplied = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_metering_events_applied_total",
		Help: "Usage events folded into the rollups, by outcome.",
	}, []string{"outcome"})
	metricDuplicates = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_metering_duplicates_ignored_total",
		Help: "Usage events whose request id was already counted (a duplicate past JetStream's dedupe window).",
	})
	metricRedelivered = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_metering_redelivered_events_total",
		Help: "Usage events delivered more than once (a reader stopped before acking them).",
	})
	metricUndecodable = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_metering_undecodable_events_total",
		Help: "Usage events that could not be decoded and were dropped.",
	})
	metricRollupWrites = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_metering_rollup_writes_total",
		Help: "Rollup compare-and-set writes to the sy_usage bucket, by window.",
	}, []string{"window"})
	metricBatchFailures = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_metering_batch_failures_total",
		Help: "Batches that could not be applied and were retried.",
	})
	metricBatchSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "switchyard_metering_batch_apply_duration_seconds",
		Help:    "Time to apply one batch of usage events (claims, rollups, ack).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	metricPending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_metering_pending_events",
		Help: "Usage events in SY_USAGE not yet acknowledged by metering (delivered or not).",
	})
	metricLag = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_metering_lag_seconds",
		Help: "Age of the newest usage event applied, when it was applied.",
	})
	metricHeld = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "switchyard_metering_events_held",
		Help: "Events delivered ahead of an earlier one still pending elsewhere, waiting for their turn.",
	})
)

// Stats are one consumer's counters.
type Stats struct {
	Applied, Duplicates, Redelivered, Undecodable, RollupWrites, BatchFailures int64
}

type counters struct {
	applied, duplicates, redelivered, undecodable, rollupWrites, batchFailures atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Applied: c.applied.Load(), Duplicates: c.duplicates.Load(), Redelivered: c.redelivered.Load(),
		Undecodable: c.undecodable.Load(), RollupWrites: c.rollupWrites.Load(), BatchFailures: c.batchFailures.Load(),
	}
}
