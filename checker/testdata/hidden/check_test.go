//go:build tutorcheck

package lesson

import (
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

func TestAnswer(t *testing.T) {
	c := harness.Begin(t, "Work returns 42")
	start := time.Now()
	got := Work()
	c.Timeline([]harness.Span{{Label: "work", Start: 0, End: time.Since(start) + time.Millisecond, Outcome: "ok"}})
	c.Value(harness.Quantity{What: "Work()", Unit: harness.Count, Want: "it returns 42", Cause: "Check the return value."}, "min", 42, float64(got))
}

func TestFast(t *testing.T) {
	c := harness.Begin(t, "Work is quick")
	c.AtMost(harness.Quantity{What: "one call", Unit: harness.Millis, Want: "a call takes microseconds"}, 50, func() float64 {
		start := time.Now()
		Work()
		return harness.Ms(time.Since(start))
	})
}
