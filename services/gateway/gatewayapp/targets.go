// Package gatewayapp is the all-in-one switchyard binary's seam: an
// embedded JetStream-enabled nats-server and any set of Switchyard's
// services, each built from the same <svc>app package as its standalone
// binary and each with its own NATS connection, so the services still talk
// only through NATS subjects and KV buckets.
package gatewayapp

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Target names, in start order.
const (
	TargetCredential  = "credential"
	TargetHealthcheck = "healthcheck"
	TargetRegistry    = "registry"
	TargetMetering    = "metering"
	TargetRouter      = "router"
)

var targetDocs = []struct{ name, doc string }{
	{TargetCredential, "provider keys: envelope-encrypted storage and resolution"},
	{TargetHealthcheck, "probes every service; Ready/Failed/Pending/Unknown with a diagnosis"},
	{TargetRegistry, "registers, edits and deregisters external inference services"},
	{TargetMetering, "counts every request's tokens exactly once; usage queries"},
	{TargetRouter, "the OpenAI-compatible HTTP edge"},
}

// AllTargets lists every target name.
func AllTargets() []string {
	out := make([]string, len(targetDocs))
	for i, t := range targetDocs {
		out[i] = t.name
	}
	return out
}

// ListTargets prints the targets for -list-targets.
func ListTargets(w io.Writer) {
	fmt.Fprintln(w, "all (default): every target below")
	for _, t := range targetDocs {
		fmt.Fprintf(w, "%-12s %s\n", t.name, t.doc)
	}
	fmt.Fprintf(w, "%-12s %s\n", TargetInit, initDoc)
}

// ParseTargets expands "all" and checks names. "init" must be alone.
func ParseTargets(list []string) ([]string, error) {
	if slices.Contains(list, TargetInit) {
		if len(list) != 1 {
			return nil, fmt.Errorf("target %q runs alone (it creates the topology, then exits)", TargetInit)
		}
		return []string{TargetInit}, nil
	}
	if len(list) == 0 || slices.Contains(list, "all") {
		return AllTargets(), nil
	}
	var out []string
	for _, t := range list {
		t = strings.TrimSpace(t)
		if !slices.Contains(AllTargets(), t) {
			return nil, fmt.Errorf("unknown target %q: use -list-targets to see them", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
