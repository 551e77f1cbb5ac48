// Package class is the tutor's class mode: a class server on the
// instructor's machine (`tutor class`) that collects the learners' results
// in an fsynced append-only log and shows them on a live dashboard, and
// the learner side (a [Sender]) that reports them without ever making the
// learner's tutor wait.
//
// What a learner's tutor sends is a summary: per lesson its status, the
// last verdict, the failing checks with their measured numbers, attempts,
// hints used and time on the lesson. Code is sent only in a [Help] request,
// which only the learner's "Ask for help" button makes.
package class

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gotutor/tutor/checker"
)

// Update is one lesson's state as a learner's tutor reports it. Seq is
// the learner's own counter: the server keeps an update once (a retry of
// one it already acknowledged is ignored) and acknowledges the highest.
type Update struct {
	Seq           int64          `json:"seq"`
	Lesson        string         `json:"lesson"`
	Status        string         `json:"status"`            // not-started, in-progress, passed
	Verdict       string         `json:"verdict,omitempty"` // of the last check: pass, fail, build-error, timeout
	Failing       []FailingCheck `json:"failing,omitempty"`
	Attempts      int            `json:"attempts"`
	HintsUsed     int            `json:"hints_used"`
	TimeOnLessonS int64          `json:"time_on_lesson_s"` // since the learner's first check of the lesson
	At            time.Time      `json:"at"`               // when the learner's tutor made it
	Help          *Help          `json:"help,omitempty"`   // only from "Ask for help"
}

// FailingCheck is a check that did not pass, with what it measured.
type FailingCheck struct {
	Name     string    `json:"name"`
	Title    string    `json:"title,omitempty"`
	Measures []Measure `json:"measures,omitempty"`
}

// Measure is one measured number of a failing check.
type Measure struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Bound float64 `json:"bound"`
	Rule  string  `json:"rule,omitempty"` // "max" or "min"
	OK    bool    `json:"ok"`             // this measure was within its bound
}

// Help is what "Ask for help" sends: the lesson's files and the last
// result's messages.
type Help struct {
	Files   map[string]string `json:"files"` // base name → content
	Summary string            `json:"summary,omitempty"`
	Checks  []HelpCheck       `json:"checks,omitempty"`
}

// HelpCheck is one check of the last result, as the learner saw it.
type HelpCheck struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message,omitempty"`
}

// Label is the check's short name ("Responsive"), its title without one.
func (f FailingCheck) Label() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Title
}

// Telling is the measure that failed (the first one if none is marked).
func (f FailingCheck) Telling() (Measure, bool) {
	for _, m := range f.Measures {
		if !m.OK {
			return m, true
		}
	}
	if len(f.Measures) > 0 {
		return f.Measures[0], true
	}
	return Measure{}, false
}

// FailingOf lists the checks of res that did not pass, with their
// measures (nil for a result without one).
func FailingOf(res *checker.Result) []FailingCheck {
	if res == nil {
		return nil
	}
	var out []FailingCheck
	for _, c := range res.Checks {
		if c.Passed {
			continue
		}
		fc := FailingCheck{Name: c.Name, Title: c.Title}
		for _, m := range c.Measures {
			fc.Measures = append(fc.Measures, Measure{What: m.What, Value: m.Value, Unit: m.Unit, Bound: m.Bound, Rule: m.Rule, OK: m.Passed})
		}
		out = append(out, fc)
	}
	return out
}

// HelpOf is the help request for files and the last result res (nil if
// none yet).
func HelpOf(files map[string][]byte, res *checker.Result) *Help {
	h := &Help{Files: map[string]string{}}
	for name, b := range files {
		h.Files[name] = string(b)
	}
	if res != nil {
		h.Summary = res.Summary
		for _, c := range res.Checks {
			h.Checks = append(h.Checks, HelpCheck{Name: c.Name, Passed: c.Passed, Message: c.Message})
		}
	}
	return h
}

// formatNumber writes a measured value the way a person reads it.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "?"
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
}
