package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	cases := []struct {
		name   string
		values func(i int) time.Duration
	}{
		{"small exact", func(i int) time.Duration { return time.Duration(i % 100) }},
		{"microseconds", func(i int) time.Duration { return time.Duration(i) * time.Microsecond }},
		{"random wide", func(int) time.Duration { return time.Duration(rand.Int64N(int64(10 * time.Second))) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			var all []time.Duration
			for i := range 10000 {
				v := tc.values(i)
				h.Record(v)
				all = append(all, v)
			}
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := all[int(q*float64(len(all)))]
				got := h.Quantile(q)
				if diff := got - want; diff < -want/100-1 || diff > want/100+1 {
					t.Errorf("q%.3f = %v, want %v within 1%%", q, got, want)
				}
			}
			if h.Quantile(1) != all[len(all)-1] || h.Count() != 10000 {
				t.Errorf("max %v count %d", h.Quantile(1), h.Count())
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	b.Record(5 * time.Microsecond)
	a.Merge(b)
	if a.Count() != 3 || a.Min() != 5*time.Microsecond || a.Max() != 3*time.Millisecond {
		t.Fatalf("merged count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
}

func TestTailWriterKeepsTheEnd(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
	}{
		{"one small", []string{"data: [DONE]\n\n"}},
		{"many small", slices.Repeat([]string{"0123456789"}, 100)},
		{"one large", []string{strings.Repeat("x", 1000) + "END"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tw tailWriter
			all := strings.Join(tc.writes, "")
			for _, w := range tc.writes {
				_, _ = tw.Write([]byte(w))
			}
			want := all[max(0, len(all)-tailBytes):]
			if string(tw.buf) != want {
				t.Fatalf("tail %q, want %q", tw.buf, want)
			}
		})
	}
}

// server answers 200 "...[DONE]" unless the request asks for a status.
func server(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.Header.Get("X-Status"); s != "" {
			var code int
			_, _ = fmt.Sscan(s, &code)
			w.WriteHeader(code)
		}
		_, _ = w.Write([]byte("data: {}\n\ndata: [DONE]\n\n"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestModesCountSuccessAndFailure(t *testing.T) {
	url := server(t)
	cases := []struct {
		name     string
		header   string
		expect   string
		wantFail bool
	}{
		{"ok", "", "[DONE]", false},
		{"bad status", "500", "", true},
		{"truncated", "", "message_stop", true},
	}
	c := NewClient(4)
	for _, tc := range cases {
		req := Request{URL: url, Body: []byte("{}"), Header: http.Header{}, ExpectTail: tc.expect}
		if tc.header != "" {
			req.Header.Set("X-Status", tc.header)
		}
		t.Run(tc.name, func(t *testing.T) {
			closed := ClosedLoop(context.Background(), c, req, 4, 100*time.Millisecond)
			open := OpenLoop(context.Background(), c, req, 500, 100*time.Millisecond, 16)
			for mode, res := range map[string]Result{"closed": closed, "open": open} {
				failed := res.Failed > 0 && res.OK == 0 && res.FirstError != ""
				succeeded := res.OK > 0 && res.Failed == 0 && res.Latency.Count() == uint64(res.OK)
				if (tc.wantFail && !failed) || (!tc.wantFail && !succeeded) {
					t.Errorf("%s: ok %d failed %d err %q", mode, res.OK, res.Failed, res.FirstError)
				}
			}
			if !tc.wantFail && (open.OK < 40 || open.OK > 50) {
				t.Errorf("open loop sent %d requests at 500/s for 100ms, want 50", open.OK)
			}
		})
	}
}
