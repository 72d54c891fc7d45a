package healthcheck

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
	if n := testutil.CollectAndCount(statusGauge); n != 0 {
		t.Fatalf("%d series left after forget", n)
	}
}
