// Package bench holds Switchyard's end-to-end benchmark tooling (issue 8)
// and Go benchmarks of hot-path pieces reachable through public APIs.
//
//   - loadgen: closed- and open-loop HTTP load generator with log-linear
//     latency histograms.
//   - procstat: CPU time, peak RSS and TIME_WAIT counts from /proc.
//   - cmd/loadbench: starts fake upstreams, a bare httputil.ReverseProxy and
//     switchyard as processes and compares them in interleaved rounds.
//   - cmd/bareproxy: the baseline proxy; cmd/switchyardpprof: switchyard
//     with a pprof listener, for profiling under that load.
//
// The benchmarks in this package (go test -bench . ./bench/) measure what
// the router's usage publisher does per request against a real JetStream
// server. See BENCHMARKS.md at the repository root for results.
package bench
