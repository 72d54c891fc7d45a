package routes

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// newestCheck is the latest checked_at (unix nanoseconds) of any status
// this process has seen. While healthcheck runs it advances every probe
// round; when healthcheck is down the router keeps routing on the last
// statuses and this stops moving — which is what the "health data stale"
// alert watches (deploy/prometheus/alerts.yaml).
var newestCheck atomic.Int64

func noteCheck(t time.Time) {
	n := t.UnixNano()
	for {
		cur := newestCheck.Load()
		if n <= cur || newestCheck.CompareAndSwap(cur, n) {
			return
		}
	}
}

// HealthDataAge is how old the newest health check seen is; 0 before any.
func HealthDataAge(now time.Time) time.Duration {
	n := newestCheck.Load()
	if n == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, n))
}

var _ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
	Name: "switchyard_router_health_data_age_seconds",
	Help: "Age of the newest service health check this router has seen (0 before any); grows while healthcheck is down.",
}, func() float64 { return HealthDataAge(time.Now()).Seconds() })
