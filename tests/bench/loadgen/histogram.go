package loadgen

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range is
// split into 2^(subBits-1) linear buckets, so a recorded value is off by
// less than 1/2^(subBits-1) (under 0.8%) of itself, at any magnitude.
const subBits = 7

const (
	subCount  = 1 << subBits
	halfCount = subCount / 2
	// bucketCount covers every int64 nanosecond value.
	bucketCount = subCount + (64-subBits)*halfCount
)

// Histogram is a log-linear latency histogram in the HDR style: constant
// relative precision, fixed memory (about 30 KB), O(1) recording. It is
// not safe for concurrent use; give each goroutine its own and Merge them.
type Histogram struct {
	counts   [bucketCount]uint64
	total    uint64
	min, max time.Duration
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{min: -1} }

// bucketOf maps a value to its bucket index.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	top := v >> shift // in [halfCount, subCount)
	return subCount + (shift-1)*halfCount + int(top-halfCount)
}

// bucketMid is a representative value of bucket i: the middle of its range.
func bucketMid(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := (i-subCount)/halfCount + 1
	top := uint64((i-subCount)%halfCount + halfCount)
	return top<<shift + (1<<shift)/2
}

// Record adds one latency; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.counts[bucketOf(uint64(d))]++
	h.total++
	if h.min < 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return h.max }

// Min is the smallest recorded value (exact; 0 when empty).
func (h *Histogram) Min() time.Duration { return max(h.min, 0) }

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if h.min < 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
}

// Quantile returns the value at quantile q in [0, 1], within the
// histogram's precision; 0 when empty. Quantile(1) is the exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(q*float64(h.total)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketMid(i))
			return min(max(v, h.Min()), h.max)
		}
	}
	return h.max
}
