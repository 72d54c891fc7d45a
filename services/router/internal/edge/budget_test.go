package edge

import (
	"testing"
	"time"
)

// The budget admits Ratio × requests + MinRetries retries per window,
// forgets them once the window has passed, and caps concurrent retries.
func TestRetryBudget(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newRetryBudget(RetryBudget{Ratio: 0.2, MinRetries: 3, MinConcurrent: 100, Window: 10 * time.Second})
	b.now = func() time.Time { return now }
	for range 100 {
		b.started()()
	}
	granted := 0
	for range 50 {
		if release, ok := b.acquire(); ok {
			granted++
			release()
		}
	}
	if granted != 23 { // 20% of 100, plus the 3 always allowed
		t.Fatalf("granted %d retries for 100 requests, want 23", granted)
	}
	now = now.Add(11 * time.Second)
	if _, ok := b.acquire(); !ok {
		t.Fatal("the budget did not refill after the window")
	}

	c := newRetryBudget(RetryBudget{Ratio: 1, MinRetries: 1000, MinConcurrent: 2, Window: 10 * time.Second})
	r1, ok1 := c.acquire()
	_, ok2 := c.acquire()
	_, ok3 := c.acquire()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("concurrency cap 2: got %v %v %v", ok1, ok2, ok3)
	}
	r1()
	if _, ok := c.acquire(); !ok {
		t.Fatal("a released retry slot was not reusable")
	}
}
