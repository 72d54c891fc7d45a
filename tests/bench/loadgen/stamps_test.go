package loadgen

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// TestStampReader: stamps are found whole, split across reads, and zero
// stamps and look-alikes are skipped.
func TestStampReader(t *testing.T) {
	old := strconv.FormatInt(time.Now().Add(-3*time.Millisecond).UnixNano(), 10)
	cases := []struct {
		name  string
		reads []string
		want  uint64
	}{
		{"two whole", []string{`data: {"content":"T` + old + ` "}` + "\n\n" + `data: {"content":"T` + old + ` "}`}, 2},
		{"split", []string{`"content":"T` + old[:7], old[7:] + ` "`}, 1},
		{"zeros", []string{`"content":"T0000000000000000000 "`}, 0},
		{"not a stamp", []string{`"Type":"T12"`, `"x"`}, 0},
	}
	for _, tc := range cases {
		h := NewHistogram()
		s := &stampReader{next: io.Discard, hist: h}
		for _, r := range tc.reads {
			if _, err := s.Write([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		if h.Count() != tc.want {
			t.Errorf("%s: %d stamps; want %d", tc.name, h.Count(), tc.want)
		}
		if tc.want > 0 && (h.Min() < 3*time.Millisecond || h.Max() > time.Second) {
			t.Errorf("%s: latency %v..%v; want about 3ms", tc.name, h.Min(), h.Max())
		}
	}
}
