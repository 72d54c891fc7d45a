package healthcheck

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func TestStatusMetricsFollowTheLastState(t *testing.T) {
	observeStatus(&pb.Status{Service: "m1", State: "Ready"}, true)
	observeStatus(&pb.Status{Service: "m1", State: "Failed"}, true)
	observeStatus(&pb.Status{Service: "m1", State: "Failed"}, false)
	if v := testutil.ToFloat64(statusGauge.WithLabelValues("m1", "Failed")); v != 1 {
		t.Fatalf("Failed = %v", v)
	}
	if v := testutil.ToFloat64(statusGauge.WithLabelValues("m1", "Ready")); v != 0 {
		t.Fatalf("Ready = %v", v)
	}
	if v := testutil.ToFloat64(statusChanges.WithLabelValues("m1", "Failed")); v != 1 {
		t.Fatalf("changes to Failed = %v (an unchanged status is not a change)", v)
	}
	forgetStatus("m1")
	if n := seriesOf(t, "m1"); n != 0 {
		t.Fatalf("%d series of m1 left after forget", n)
	}
}

// seriesOf counts statusGauge's series for service (other tests in the
// package leave series of their own services behind).
func seriesOf(t *testing.T, service string) int {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	go func() { statusGauge.Collect(ch); close(ch) }()
	n := 0
	for m := range ch {
		var out dto.Metric
		if err := m.Write(&out); err != nil {
			t.Fatal(err)
		}
		for _, l := range out.GetLabel() {
			if l.GetName() == "service" && l.GetValue() == service {
				n++
			}
		}
	}
	return n
}
