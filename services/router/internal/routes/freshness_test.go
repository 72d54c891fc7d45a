package routes

import (
	"testing"
	"time"
)

func TestHealthDataAgeFollowsTheNewestCheck(t *testing.T) {
	now := time.Now()
	noteCheck(now.Add(-10 * time.Minute))
	noteCheck(now.Add(-2 * time.Minute))
	noteCheck(now.Add(-30 * time.Minute)) // an older status arriving late does not rewind
	if age := HealthDataAge(now); age < 2*time.Minute-time.Second || age > 2*time.Minute+time.Second {
		t.Fatalf("age = %v, want ~2m", age)
	}
}
