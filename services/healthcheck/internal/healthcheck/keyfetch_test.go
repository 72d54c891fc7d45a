package healthcheck

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A refresh probe that cannot fetch the service's key has not reached the
// upstream: a verified status stands (the edge keeps routing to a working
// upstream while the credential service is away), and a service that
// was never verified reads Unknown with the reason. The credential
// service answering that the key is gone is a finding: Failed.
func TestKeyFetchOutageLeavesVerifiedStatus(t *testing.T) {
	e := newEnv(t)
	up := startUpstream(t, http.StatusOK)
	e.startReplica(t, Config{Interval: testInterval, Jitter: testJitter, Concurrency: 4}, false)
	e.putService(t, "svc-a", up.URL)
	ready := e.waitState(t, "svc-a", "Ready", 5*time.Second)

	e.creds.Stop() // the credential service goes away: no responders
	time.Sleep(4 * testInterval)
	if st := e.status(t, "svc-a"); st.GetState() != "Ready" ||
		!st.GetCheckedAt().AsTime().Equal(ready.GetCheckedAt().AsTime()) {
		t.Fatalf("during the credential outage the status became %v; want the verified Ready left as it was", st)
	}
	e.putService(t, "svc-new", up.URL) // never verified: Unknown says why
	unknown := e.waitState(t, "svc-new", "Unknown", 5*time.Second)
	if !strings.Contains(unknown.GetMessage(), "not checked: the API key could not be fetched") {
		t.Errorf("Unknown message = %q; want the reason", unknown.GetMessage())
	}

	e.creds.SetMissing(true)
	e.creds.Serve(t) // back, but it answers that the key is gone
	failed := e.waitState(t, "svc-a", "Failed", 5*time.Second)
	if !strings.HasPrefix(failed.GetMessage(), "credential unresolvable: ") {
		t.Errorf("Failed message = %q", failed.GetMessage())
	}
	e.creds.SetMissing(false)
	e.waitState(t, "svc-a", "Ready", 5*time.Second)
	e.waitState(t, "svc-new", "Ready", 5*time.Second)
}
