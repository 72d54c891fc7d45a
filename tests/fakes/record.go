package fakes

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Outcome is how the fake ended a request.
type Outcome string

// Request outcomes.
const (
	OutcomePending   Outcome = ""             // still being served
	OutcomeOK        Outcome = "ok"           // full response written
	OutcomeError     Outcome = "error"        // protocol error answered (auth, 404, validation)
	OutcomeFault     Outcome = "fault"        // injected failure answered
	OutcomeStreamErr Outcome = "stream_error" // mid-stream error event sent (ErrorAfter)
	OutcomeCancelled Outcome = "cancelled"    // the client went away first
	OutcomeDropped   Outcome = "dropped"      // connection aborted by DropAfter
)

// RecordedRequest is one request as the fake received it.
type RecordedRequest struct {
	Seq      int // 1-based arrival order
	Method   string
	Path     string // decoded URL path
	RawQuery string
	Header   http.Header
	Body     []byte
	Model    string // model or deployment the request asked for, once parsed
	Stream   bool   // whether a streamed answer was requested
	Received time.Time
	Outcome  Outcome
	// ContentChunks is how many content deltas a stream delivered.
	ContentChunks int
}

// Stats are the fake's counters since New (or ResetRecords).
type Stats struct {
	Requests    int   // requests received
	InFlight    int   // requests being served now
	ConnsOpened int   // TCP connections accepted
	ConnsClosed int   // TCP connections closed (or hijacked)
	Cancelled   int   // requests the client abandoned before the response ended
	Faults      int   // injected failures served
	Dropped     int   // streams aborted by DropAfter
	Stalls      int   // streams that entered a stall
	StreamErrs  int   // mid-stream error events sent
	Completed   int   // inference answers written in full, usage included
	Reported    Usage // sum of the usage in Completed answers
	LastCancel  time.Time
}

// Requests returns copies of the retained requests, oldest first.
func (f *Fake) Requests() []RecordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]RecordedRequest, 0, len(f.recent))
	for _, r := range f.recent {
		out = append(out, r.clone())
	}
	return out
}

// LastRequest returns the most recent request, if any.
func (f *Fake) LastRequest() (RecordedRequest, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.recent) == 0 {
		return RecordedRequest{}, false
	}
	return f.recent[len(f.recent)-1].clone(), true
}

// RequestsTo returns the retained requests whose path equals path.
func (f *Fake) RequestsTo(path string) []RecordedRequest {
	var out []RecordedRequest
	for _, r := range f.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Count is the number of requests received for an exact path.
func (f *Fake) Count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perPath[path]
}

// Counts is a copy of the per-path request counters.
func (f *Fake) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.perPath))
	for k, v := range f.perPath {
		out[k] = v
	}
	return out
}

// Stats returns a snapshot of the counters.
func (f *Fake) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// WaitStats polls until cond holds or timeout passes, and returns the last
// snapshot and whether cond held. Use it for effects that arrive
// asynchronously, such as a cancellation after a gateway timeout.
func (f *Fake) WaitStats(timeout time.Duration, cond func(Stats) bool) (Stats, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		s := f.Stats()
		if cond(s) {
			return s, true
		}
		select {
		case <-ctx.Done():
			return s, false
		case <-tick.C:
		}
	}
}

// Watch registers secrets to look for in every later request (headers,
// path, query and body, raw and as substrings); Sightings reports the hits.
// Use it to prove a consumer key never reached the upstream.
func (f *Fake) Watch(secrets ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range secrets {
		if _, ok := f.watched[s]; !ok && s != "" {
			f.watched[s] = 0
		}
	}
}

// Sightings is how many requests contained the watched secret.
func (f *Fake) Sightings(secret string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watched[secret]
}

// ResetRecords clears retained requests, counters, stats and sightings
// (watched secrets stay registered). Connection counts are kept.
func (f *Fake) ResetRecords() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recent = nil
	f.perPath = map[string]int{}
	opened, closed, inflight := f.stats.ConnsOpened, f.stats.ConnsClosed, f.stats.InFlight
	f.stats = Stats{ConnsOpened: opened, ConnsClosed: closed, InFlight: inflight}
	for s := range f.watched {
		f.watched[s] = 0
	}
}

// ConnState counts connection opens and closes; Start and ListenAndServe
// install it, and a caller running its own http.Server should too.
func (f *Fake) ConnState(_ net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch state {
	case http.StateNew:
		f.stats.ConnsOpened++
	case http.StateClosed, http.StateHijacked:
		f.stats.ConnsClosed++
	}
}

// record stores an arriving request and returns its entry (owned by f.mu).
func (f *Fake) record(r *http.Request, body []byte, keep int) *RecordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Requests++
	f.stats.InFlight++
	f.perPath[r.URL.Path]++
	entry := &RecordedRequest{
		Seq: f.stats.Requests, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Received: time.Now(),
	}
	f.countSightings(r, body)
	f.recent = append(f.recent, entry)
	if extra := len(f.recent) - keep; extra > 0 {
		f.recent = append([]*RecordedRequest(nil), f.recent[extra:]...)
	}
	return entry
}

// countSightings bumps the counter of every watched secret in the request.
func (f *Fake) countSightings(r *http.Request, body []byte) {
	if len(f.watched) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString(r.URL.Path + "?" + r.URL.RawQuery + "\n")
	for name, values := range r.Header {
		b.WriteString(name + ": " + strings.Join(values, ",") + "\n")
	}
	b.Write(body)
	all := b.String()
	for s := range f.watched {
		if strings.Contains(all, s) {
			f.watched[s]++
		}
	}
}

func (r *RecordedRequest) clone() RecordedRequest {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = append([]byte(nil), r.Body...)
	return c
}
