package system

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
)

// TEST-PLAN F1: SIGKILL the NATS node leading SY_USAGE under load, restart
// it later. The edge keeps serving, no usage event is lost or doubled, and
// the stream is R3-current again after the restart.
func TestNATSMeteringLeaderKilled(t *testing.T) {
	const (
		loadTime  = 25 * time.Second
		killAfter = 5 * time.Second
		downFor   = 10 * time.Second
	)
	s := stackFor(t)
	k := s.newKey(t, "f1@example.com", 0)
	edges := s.waitBothServe(t, k)
	leader := s.streamLeader(t, contract.StreamUsage)
	wait := loadFor(loadTime, edges, k, fastModel, 3)

	time.Sleep(killAfter)
	killedAt := time.Now()
	if err := s.boxes[leader].kill(); err != nil {
		t.Fatal(err)
	}
	elected := s.waitLeaderOtherThan(t, contract.StreamUsage, leader)
	time.Sleep(downFor - time.Since(killedAt))
	restartedAt := time.Now()
	if err := s.boxes[leader].start(); err != nil {
		t.Fatal(err)
	}
	seen := wait()
	current := s.waitStreamsCurrent(t, restartedAt)
	m := s.meter(t, k, seen)
	report(t, fmt.Sprintf("F1 SY_USAGE leader %s SIGKILLed for %v", leader, downFor), seen, m,
		fmt.Sprintf("new leader in %v, every stream R3-current %v after the restart", elected.Round(time.Millisecond), current.Round(100*time.Millisecond)))
	s.requireNoLossNoDup(t, seen, m)
	s.requireFewErrors(t, seen)
}

// TEST-PLAN F4: partition the node leading SY_USAGE (docker network
// disconnect) under load, heal it. Traffic continues through the majority;
// after the heal every node holds the same streams (no divergence).
func TestNATSNodePartitioned(t *testing.T) {
	const (
		loadTime       = 30 * time.Second
		partitionAfter = 5 * time.Second
		partitionFor   = 15 * time.Second
	)
	s := stackFor(t)
	k := s.newKey(t, "f4@example.com", 0)
	edges := s.waitBothServe(t, k)
	isolated := s.streamLeader(t, contract.StreamUsage)
	wait := loadFor(loadTime, edges, k, fastModel, 3)

	time.Sleep(partitionAfter)
	cutAt := time.Now()
	if err := s.disconnect(s.boxes[isolated]); err != nil {
		t.Fatal(err)
	}
	elected := s.waitLeaderOtherThan(t, contract.StreamUsage, isolated)
	time.Sleep(partitionFor - time.Since(cutAt))
	healedAt := time.Now()
	if err := s.reconnect(s.boxes[isolated]); err != nil {
		t.Fatal(err)
	}
	seen := wait()
	current := s.waitStreamsCurrent(t, healedAt)
	m := s.meter(t, k, seen)
	diverged := s.divergence(t)
	report(t, fmt.Sprintf("F4 %s (SY_USAGE leader) partitioned for %v", isolated, partitionFor), seen, m,
		fmt.Sprintf("new leader in %v, R3-current %v after the heal, diverged streams %v",
			elected.Round(time.Millisecond), current.Round(100*time.Millisecond), diverged))
	s.requireNoLossNoDup(t, seen, m)
	s.requireFewErrors(t, seen)
	if len(diverged) > 0 {
		t.Fatalf("streams differ between nodes after the heal: %v", diverged)
	}
}

func (s *stack) streamLeader(t *testing.T, stream string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("%s has no leader: %v", stream, err)
	}
	return info.Cluster.Leader
}

// waitLeaderOtherThan returns how long since the call a new leader took.
func (s *stack) waitLeaderOtherThan(t *testing.T, stream, old string) time.Duration {
	t.Helper()
	began := time.Now()
	for time.Since(began) < 30*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := s.js.Stream(ctx, stream)
		if err == nil {
			if info, err := st.Info(ctx); err == nil && info.Cluster != nil &&
				info.Cluster.Leader != "" && info.Cluster.Leader != old {
				cancel()
				return time.Since(began)
			}
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new %s leader 30s after losing %s", stream, old)
	return 0
}

// waitStreamsCurrent waits until every stream and bucket has its three
// replicas current (no lag), and returns the time since since.
func (s *stack) waitStreamsCurrent(t *testing.T, since time.Time) time.Duration {
	t.Helper()
	topo := contract.Declare(contract.Options{Replicas: 3})
	var names []string
	for _, sc := range topo.Streams {
		names = append(names, sc.Name)
	}
	for _, kc := range topo.Buckets {
		names = append(names, "KV_"+kc.Bucket)
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, name := range names {
		for !s.streamCurrent(name) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not R3-current 90s later", name)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return time.Since(since)
}

func (s *stack) streamCurrent(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, name)
	if err != nil {
		return false
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		return false
	}
	for _, r := range info.Cluster.Replicas {
		if !r.Current || r.Offline || r.Lag != 0 {
			return false
		}
	}
	return true
}

// divergence compares every stream's state (messages, bytes, first and
// last sequence) as each node reports it on /jsz, and names the streams
// whose replicas differ.
func (s *stack) divergence(t *testing.T) []string {
	t.Helper()
	states := map[string]map[string]streamState{} // stream -> node -> state
	for _, n := range natsNodes {
		for stream, st := range s.nodeStreams(t, n) {
			if states[stream] == nil {
				states[stream] = map[string]streamState{}
			}
			states[stream][n] = st
		}
	}
	var diverged []string
	for stream, byNode := range states {
		var first *streamState
		for _, st := range byNode {
			if first == nil {
				first = &st
			} else if st != *first {
				diverged = append(diverged, fmt.Sprintf("%s %v", stream, byNode))
				break
			}
		}
		if len(byNode) != len(natsNodes) {
			diverged = append(diverged, fmt.Sprintf("%s on %d nodes", stream, len(byNode)))
		}
	}
	return diverged
}

type streamState struct {
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// nodeStreams reads one node's replicas from its monitoring port.
func (s *stack) nodeStreams(t *testing.T, node string) map[string]streamState {
	t.Helper()
	url := "http://" + s.boxes[node].hostAddr("8222/tcp") + "/jsz?accounts=true&streams=true"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("%s /jsz: %v", node, err)
	}
	defer resp.Body.Close()
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name  string      `json:"name"`
				State streamState `json:"state"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
		t.Fatalf("%s /jsz: %v", node, err)
	}
	out := map[string]streamState{}
	for _, a := range jsz.Accounts {
		for _, st := range a.Streams {
			out[st.Name] = st.State
		}
	}
	return out
}

func (s *stack) requireNoLossNoDup(t *testing.T, seen *tally, m metered) {
	t.Helper()
	if m.lost != 0 || m.duplicated != 0 {
		t.Fatalf("usage events lost %d, duplicated %d (of %d answered requests)", m.lost, m.duplicated, len(seen.ids))
	}
}

// requireFewErrors is TEST-PLAN F1's bound: errors attributable to NATS
// at most 0.1% of requests, confined to 10 s.
func (s *stack) requireFewErrors(t *testing.T, seen *tally) {
	t.Helper()
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.requests < 100 {
		t.Fatalf("only %d requests under load", seen.requests)
	}
	if float64(seen.errors) > 0.001*float64(seen.requests) || errWindowLocked(seen) > 10*time.Second {
		t.Fatalf("%d errors of %d requests over %v: want at most 0.1%% within 10s", seen.errors, seen.requests, errWindowLocked(seen))
	}
}
