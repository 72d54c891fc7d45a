package outbound

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRoundTrip compares one small POST answered by a local server
// through the forwarder's inline HTTP/1.1 pool and through net/http's
// Transport (what the router used before). Both include the server's
// side; compare ns/op and allocs/op between the two sub-benchmarks.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`)
	}))
	defer srv.Close()
	url := srv.URL + "/v1/chat/completions"
	const body = `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	policy, _ := ParsePolicy("loopback")
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"inline", NewForwarder(policy, Options{Logger: quietLogger}).(*forwarder).plain},
		{"net-http", NewTransport(policy, Options{Logger: quietLogger, ResponseHeaderTimeout: -1})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, url, strings.NewReader(body))
				resp, err := tc.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			// Process CPU (client and server together) per exchange: the
			// wall-clock ns/op of one sequential caller hides what the
			// hand-offs between goroutines cost.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
