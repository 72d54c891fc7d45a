package healthcheck

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// healthStates are the values of switchyard_health_status's state label.
var healthStates = []string{"Ready", "Failed", "Pending", "Unknown"}

var (
	statusGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "switchyard_health_status",
		Help: "1 for the current state of each service (state: Ready, Failed, Pending, Unknown), 0 for the others.",
	}, []string{"service", "state"})
	statusChanges = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_health_status_changes_total",
		Help: "Status transitions recorded per service; a steadily rising count without upstream changes is flapping.",
	}, []string{"service", "state"})
	probeResults = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_health_probes_total",
		Help: "Probes run, by protocol and resulting state.",
	}, []string{"protocol", "state"})
	probesNotRun = promauto.NewCounter(prometheus.CounterOpts{
		Name: "switchyard_health_probes_not_run_total",
		Help: "Probes that could not reach the upstream (its API key could not be fetched) and left a verified status as it was.",
	})
)

// observeStatus exports st as the service's current state.
func observeStatus(st *pb.Status, changed bool) {
	for _, s := range healthStates {
		v := 0.0
		if s == st.GetState() {
			v = 1
		}
		statusGauge.WithLabelValues(st.GetService(), s).Set(v)
	}
	if changed {
		statusChanges.WithLabelValues(st.GetService(), st.GetState()).Inc()
	}
}

// forgetStatus drops a deregistered service's series.
func forgetStatus(service string) {
	for _, s := range healthStates {
		statusGauge.DeleteLabelValues(service, s)
	}
}
