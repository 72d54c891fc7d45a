package loadgen

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// ClosedLoop runs conns workers for d, each sending r back to back over
// its own keep-alive connection, and reports throughput and latency. At
// the end every worker finishes the request it has in flight rather than
// cancelling it: a cancelled request closes its connection, which would
// charge the next run with reconnects and TIME_WAIT sockets.
func ClosedLoop(ctx context.Context, c *http.Client, r Request, conns int, d time.Duration) Result {
	deadline := time.Now().Add(d)
	results := make([]Result, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Go(func() { results[i] = closedWorker(ctx, c, r, deadline) })
	}
	wg.Wait()
	total := Result{Latency: NewHistogram()}
	for _, res := range results {
		total.merge(res)
	}
	total.Elapsed = time.Since(start)
	return total
}

// closedWorker loops until the deadline (or ctx ends).
func closedWorker(ctx context.Context, c *http.Client, r Request, deadline time.Time) Result {
	res := Result{Latency: NewHistogram(), ChunkLatency: NewHistogram()}
	tail := &tailWriter{buf: make([]byte, 0, tailBytes)}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		t0 := time.Now()
		res.count(do(ctx, c, r, tail, res.ChunkLatency), time.Since(t0))
	}
	return res
}

// OpenLoop starts r at a fixed rate (requests per second) for d, each in
// its own goroutine, with at most maxInFlight outstanding; a request that
// must wait for a slot still has its latency counted from its scheduled
// start. It waits for stragglers (up to the client's timeout).
func OpenLoop(ctx context.Context, c *http.Client, r Request, rate float64, d time.Duration, maxInFlight int) Result {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	slots := make(chan struct{}, maxInFlight)
	var mu sync.Mutex
	total := Result{Latency: NewHistogram(), ChunkLatency: NewHistogram()}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			tail := tailPool.Get().(*tailWriter)
			var chunks *Histogram
			if r.ChunkStamps {
				chunks = NewHistogram()
			}
			err := do(ctx, c, r, tail, chunks)
			tailPool.Put(tail)
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			total.count(err, lat)
			if chunks != nil {
				total.ChunkLatency.Merge(chunks)
			}
		})
	}
	wg.Wait()
	total.Elapsed = time.Since(start)
	return total
}

var tailPool = sync.Pool{New: func() any { return &tailWriter{buf: make([]byte, 0, tailBytes)} }}

// count records one finished request.
func (r *Result) count(err error, lat time.Duration) {
	if err != nil {
		r.Failed++
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
		return
	}
	r.OK++
	r.Latency.Record(lat)
}
