package system

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
)

// TEST-PLAN D5 against the running cluster, read back from /varz and
// stream info: every node fsyncs every write and requires TLS; SY_USAGE is
// R3 on three nodes with distinct az: tags, file storage, work-queue,
// Discard: New, a dedupe window covering the publisher's retries.
func TestJetStreamSettingsReadBack(t *testing.T) {
	s := stackFor(t)
	tags := map[string]string{} // server name -> az tag
	for _, n := range natsNodes {
		v := s.varz(t, n)
		if !v.JetStream.Config.SyncAlways || !v.TLSRequired || v.Cluster.Name != "switchyard" {
			t.Errorf("%s: sync_always %v, tls_required %v, cluster %q", n, v.JetStream.Config.SyncAlways, v.TLSRequired, v.Cluster.Name)
		}
		for _, tag := range v.Tags {
			if len(tag) > 3 && tag[:3] == "az:" {
				tags[v.Name] = tag
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, contract.StreamUsage)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Replicas != 3 || c.Storage != jetstream.FileStorage || c.Retention != jetstream.WorkQueuePolicy ||
		c.Discard != jetstream.DiscardNew || c.Duplicates < contract.UsageDedupWindow {
		t.Errorf("SY_USAGE config: replicas %d, storage %v, retention %v, discard %v, duplicates %v",
			c.Replicas, c.Storage, c.Retention, c.Discard, c.Duplicates)
	}
	peers := []string{info.Cluster.Leader}
	for _, r := range info.Cluster.Replicas {
		peers = append(peers, r.Name)
	}
	var zones []string
	for _, p := range peers {
		if z := tags[p]; z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	t.Logf("FIGURES D5: sync_always on %d nodes, SY_USAGE R%d %v %v discard %v dedupe %v on %v in zones %v",
		len(natsNodes), c.Replicas, c.Storage, c.Retention, c.Discard, c.Duplicates, peers, zones)
	if len(zones) != 3 {
		t.Errorf("SY_USAGE replicas on %v span zones %v, want 3 distinct az: tags", peers, zones)
	}
}

type varz struct {
	Name        string   `json:"server_name"`
	TLSRequired bool     `json:"tls_required"`
	Tags        []string `json:"tags"`
	Cluster     struct {
		Name string `json:"name"`
	} `json:"cluster"`
	JetStream struct {
		Config struct {
			SyncAlways bool `json:"sync_always"`
		} `json:"config"`
	} `json:"jetstream"`
}

func (s *stack) varz(t *testing.T, node string) varz {
	t.Helper()
	resp, err := http.Get("http://" + s.boxes[node].hostAddr("8222/tcp") + "/varz")
	if err != nil {
		t.Fatalf("%s /varz: %v", node, err)
	}
	defer resp.Body.Close()
	var v varz
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s /varz: %v", node, err)
	}
	return v
}
