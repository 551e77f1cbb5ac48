package app

import (
	"strings"
	"testing"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
)

func TestStatsReport(t *testing.T) {
	var s Stats
	add := func(value, bound float64, ok bool) {
		s.Add(Outcome{
			Lesson:  "05-x",
			Variant: lessons.Variant{Name: "solution", Expect: lessons.MustPass},
			OK:      ok,
			Result: &checker.Result{Checks: []checker.Check{{
				Name:     "Counts",
				Measures: []checker.Measure{{What: "numbers handed out", Unit: "count", Value: value, Bound: bound, Rule: "min", Samples: []float64{value}}},
			}}},
		})
	}
	// The bound depends on the run (how many visits were sent): one row,
	// the bound as a range, headroom judged run by run.
	add(100, 100, true)
	add(200, 200, true)
	add(90, 100, false)
	var b strings.Builder
	s.Print(&b)
	out := b.String()
	for _, want := range []string{
		"05-x / solution (must pass): 3 runs, 1 wrong verdicts",
		"min 90  median 100  max 200  (bound ≥ 100–200; headroom 1.0×, passes)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Counts: numbers handed out"); n != 1 {
		t.Errorf("want one row for the measure, got %d:\n%s", n, out)
	}
}

func TestHeadroom(t *testing.T) {
	for _, tc := range []struct {
		rule          string
		bound, median float64
		want          float64
	}{
		{"max", 300, 100, 3},
		{"max", 300, 600, 0.5},
		{"min", 95, 190, 2},
	} {
		if got := Headroom(tc.rule, tc.bound, tc.median); got != tc.want {
			t.Errorf("Headroom(%s, %v, %v) = %v, want %v", tc.rule, tc.bound, tc.median, got, tc.want)
		}
	}
}
