package app

import (
	"testing"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
)

// TestJudge pins the verification rule itself.
func TestJudge(t *testing.T) {
	wrong := lessons.Variant{Name: "wrong-x", Expect: lessons.MustFail, Failing: []string{"Concurrent"}}
	right := lessons.Variant{Name: "solution", Expect: lessons.MustPass}
	res := func(v checker.Verdict, checks ...checker.Check) *checker.Result {
		return &checker.Result{Verdict: v, Checks: checks}
	}
	failC := checker.Check{Name: "Concurrent", Passed: false}
	passC := checker.Check{Name: "Concurrent", Passed: true}
	otherFail := checker.Check{Name: "Responsive", Passed: false}
	tests := []struct {
		name string
		v    lessons.Variant
		r    *checker.Result
		want bool
	}{
		{"solution passes", right, res(checker.Pass, passC), true},
		{"solution fails", right, res(checker.Fail, failC), false},
		{"wrong fails as intended", wrong, res(checker.Fail, failC, otherFail), true},
		{"wrong fails for another reason", wrong, res(checker.Fail, passC, otherFail), false},
		{"wrong passes", wrong, res(checker.Pass, passC), false},
		{"wrong does not compile", wrong, res(checker.BuildError), false},
		{"wrong times out in the intended check", wrong, &checker.Result{Verdict: checker.Timeout, Running: "Concurrent"}, true},
		{"wrong times out before the intended check ran", wrong, res(checker.Timeout, checker.Check{Name: "Responsive", Status: checker.TimedOut},
			checker.Check{Name: "Concurrent", Status: checker.NotRun, Message: "not run: the time limit (20s) was used up by Responsive"}), false},
	}
	for _, tt := range tests {
		if got, why := Judge(tt.v, tt.r); got != tt.want {
			t.Errorf("%s: Judge = %v (%s), want %v", tt.name, got, why, tt.want)
		}
	}
}
