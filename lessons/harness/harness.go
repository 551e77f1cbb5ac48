// Package harness is the timing toolkit that every lesson's hidden checks
// share. It uses the standard library only, because it is compiled into the
// learner's workspace module (through a build overlay) next to the learner's
// code.
//
// A hidden check is an ordinary test function. It starts with [Begin], measures
// something with the helpers here ([Fire], [Gauge], [CPUUnit]), and judges each
// measurement with [Check.AtMost] or [Check.AtLeast]. Every judgement produces a
// message that carries the measured value, the bound and a likely cause, so a
// failure always tells the learner what was seen and what was expected.
//
// When the environment variable TUTOR_REPORT names a file, each check appends
// one JSON record to it (see [Record]); the tutor's checker reads those records.
// Without it (an author running go test by hand) the messages go to t.Log.
package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ReportEnv names the environment variable holding the report file's path.
const ReportEnv = "TUTOR_REPORT"

// Unit says how a measured quantity is printed.
type Unit string

// The units a quantity can have.
const (
	Millis Unit = "ms"    // a duration in milliseconds
	Count  Unit = "count" // a number of things: requests, goroutines, workers
	Ratio  Unit = "x"     // a dimensionless ratio
)

// Quantity describes what a check measures and the rule it must satisfy.
// Exactly one of Max or Min is the bound, chosen by the judging method.
type Quantity struct {
	// What names the measurement in the learner's words, e.g.
	// "10 requests × 100 ms, total time".
	What string
	// Unit is how values print.
	Unit Unit
	// Want says what correct code measures, e.g. "concurrent handling takes
	// about 100 ms". It is part of every failure message.
	Want string
	// Cause is one sentence on the likely cause when the bound is missed.
	Cause string
	// Band says how close to the bound a sample must land to be measured
	// again: a sample within a factor of 1+Band of the bound, on either
	// side, is not trusted alone, so the check takes up to Retries more
	// samples and judges their median. 0 means 1 (a bound of 300 ms
	// re-measures samples from 150 to 600 ms). Right and wrong code differ
	// by at least 3×, so a sample that misses its bound by less than 2× may
	// be a correct solution slowed by a busy machine (seen: 531 ms against
	// 300 ms at load 11); a wrong one is judged the same, on the median.
	Band float64
	// Beyond, if set, replaces Band on the failing side of the bound: a
	// sample that misses the bound by less than a factor of 1+Beyond is
	// measured again. Use it where correct code lands far inside the bound
	// but a stalled machine can push it far past (lesson 02: 105 ms
	// against 300, stalls seen at 745), so that correct samples are not
	// re-measured on every run.
	Beyond float64
	// Retries is how many extra samples a measurement near the bound may
	// take. 0 means 2; a negative value means never re-measure.
	Retries int
}

// Measure is one judged measurement, as reported to the tutor.
type Measure struct {
	What    string    `json:"what"`
	Unit    Unit      `json:"unit"`
	Samples []float64 `json:"samples"`
	Value   float64   `json:"value"` // the judged value: the median of Samples
	Bound   float64   `json:"bound"`
	Rule    string    `json:"rule"` // "max" or "min"
	Passed  bool      `json:"passed"`
}

// Span is one request or job drawn on the lesson's timeline.
type Span struct {
	Label   string        `json:"label"`
	Start   time.Duration `json:"start_ns"`
	End     time.Duration `json:"end_ns"`
	Outcome string        `json:"outcome,omitempty"` // "ok", "error", "rejected", "late", "unfinished", "probe"
}

// Record is what one check reports to the tutor.
type Record struct {
	Check      string    `json:"check"` // the test function name without "Test"
	Title      string    `json:"title"` // what the check verifies, for the learner
	Passed     bool      `json:"passed"`
	Message    string    `json:"message"`
	Measures   []Measure `json:"measures,omitempty"`
	Remeasured bool      `json:"remeasured,omitempty"`
	Timeline   []Span    `json:"timeline,omitempty"`
}

// Check collects the measurements of one hidden check.
type Check struct {
	t *testing.T

	mu  sync.Mutex
	rec Record
}

// Begin starts a check for the test t. The title says, for the learner, what
// the check verifies ("10 requests at once finish in about one sleep"). The
// record is written when the test ends, whether it passed, failed or skipped.
func Begin(t *testing.T, title string) *Check {
	t.Helper()
	c := &Check{t: t, rec: Record{Check: strings.TrimPrefix(t.Name(), "Test"), Title: title}}
	t.Cleanup(c.finish)
	return c
}

// AtMost judges that the quantity measured by measure is at most max. See
// [Check.judge] for re-measuring near the bound.
func (c *Check) AtMost(q Quantity, max float64, measure func() float64) bool {
	c.t.Helper()
	return c.judge(q, "max", max, measure)
}

// AtLeast judges that the quantity measured by measure is at least min.
func (c *Check) AtLeast(q Quantity, min float64, measure func() float64) bool {
	c.t.Helper()
	return c.judge(q, "min", min, measure)
}

// Value judges a single already-measured value against a bound without
// re-measuring: use it for counts, which do not wobble.
func (c *Check) Value(q Quantity, rule string, bound, got float64) bool {
	c.t.Helper()
	q.Retries = -1
	return c.judge(q, rule, bound, func() float64 { return got })
}

// judge takes one sample; if it lands within the quantity's band around the
// bound it takes up to Retries more, and judges the median. A single noisy
// sample near the bound therefore never decides a verdict.
func (c *Check) judge(q Quantity, rule string, bound float64, measure func() float64) bool {
	c.t.Helper()
	band := q.Band
	if band == 0 {
		band = 1
	}
	beyond := q.Beyond
	if beyond == 0 {
		beyond = band
	}
	retries := q.Retries
	if retries == 0 {
		retries = 2
	}
	samples := []float64{measure()}
	for retries > 0 && nearBound(samples, rule, bound, band, beyond) {
		samples = append(samples, measure())
		retries--
	}
	got := median(samples)
	passed := got <= bound
	if rule == "min" {
		passed = got >= bound
	}
	m := Measure{What: q.What, Unit: q.Unit, Samples: samples, Value: got, Bound: bound, Rule: rule, Passed: passed}
	msg := Message(q, rule, bound, got, passed)
	if len(samples) > 1 {
		msg += fmt.Sprintf(" (near the bound: measured %d times, judged the median of %s)", len(samples), formatSamples(q.Unit, samples))
	}
	c.mu.Lock()
	c.rec.Measures = append(c.rec.Measures, m)
	if len(samples) > 1 {
		c.rec.Remeasured = true
	}
	c.addMessage(msg, passed)
	c.mu.Unlock()
	if !passed {
		c.t.Error(msg)
	} else {
		c.t.Log(msg)
	}
	return passed
}

// nearBound reports whether the median of samples lies within a factor of
// 1+band of the bound on its passing side, or of 1+beyond on its failing
// side.
func nearBound(samples []float64, rule string, bound, band, beyond float64) bool {
	m := median(samples)
	v := math.Abs(m)
	b := math.Abs(bound)
	if b == 0 || v == 0 {
		return false
	}
	passing := m <= bound
	if rule == "min" {
		passing = m >= bound
	}
	if !passing {
		band = beyond
	}
	return max(v, b)/min(v, b) < 1+band
}

// Message writes the learner-facing sentence for a judged measurement:
// the value, the bound, what correct code measures and, on failure, the cause.
func Message(q Quantity, rule string, bound, got float64, passed bool) string {
	cmp := "up to"
	if rule == "min" {
		cmp = "at least"
	}
	if passed {
		return fmt.Sprintf("%s: %s (the check allows %s %s).", q.What, Format(q.Unit, got), cmp, Format(q.Unit, bound))
	}
	s := fmt.Sprintf("%s: %s. %s; the check allows %s %s.", q.What, Format(q.Unit, got), capitalize(q.Want), cmp, Format(q.Unit, bound))
	if q.Cause != "" {
		s += " " + q.Cause
	}
	return s
}

// Fail records a failure that is not a measurement (an error status, a wrong
// body, a missing response) and fails the test with msg.
func (c *Check) Fail(msg string) {
	c.t.Helper()
	c.mu.Lock()
	c.addMessage(msg, false)
	c.mu.Unlock()
	c.t.Error(msg)
}

// Fatal is Fail followed by stopping the test.
func (c *Check) Fatal(msg string) {
	c.t.Helper()
	c.Fail(msg)
	c.t.FailNow()
}

// Precondition stops the check when something the check itself relies on
// fails (err is not nil), such as a detector that must work before its
// counts mean anything. what says what the check cannot do; the message
// tells the learner that the fault lies in the lesson's checks, not in
// their code: "what (err). This is a bug in the lesson's checks, not in
// your code."
func (c *Check) Precondition(what string, err error) {
	c.t.Helper()
	if err != nil {
		c.Fatal(fmt.Sprintf("%s (%v). This is a bug in the lesson's checks, not in your code.", what, err))
	}
}

// Note adds an informational sentence to the check's message.
func (c *Check) Note(msg string) {
	c.t.Helper()
	c.mu.Lock()
	c.addMessage(msg, true)
	c.mu.Unlock()
	c.t.Log(msg)
}

// addMessage keeps failure sentences ahead of passing ones, so the first
// sentence of a failed check's message is always the reason it failed.
// c.mu must be held.
func (c *Check) addMessage(msg string, passed bool) {
	if c.rec.Message == "" {
		c.rec.Message = msg
		return
	}
	if !passed {
		c.rec.Message = msg + " " + c.rec.Message
		return
	}
	c.rec.Message += " " + msg
}

// Timeline records the spans to draw for this check. Spans are shown
// relative to the earliest start.
func (c *Check) Timeline(spans []Span) {
	c.mu.Lock()
	c.rec.Timeline = Normalize(spans)
	c.mu.Unlock()
}

func (c *Check) finish() {
	c.mu.Lock()
	rec := c.rec
	c.mu.Unlock()
	rec.Passed = !c.t.Failed()
	if rec.Message == "" {
		if rec.Passed {
			rec.Message = "ok"
		} else {
			rec.Message = "failed"
		}
	}
	path := os.Getenv(ReportEnv)
	if path == "" {
		return
	}
	b, err := json.Marshal(rec)
	if err != nil {
		c.t.Errorf("harness: encode report: %v", err)
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		c.t.Errorf("harness: open report: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		c.t.Errorf("harness: write report: %v", err)
	}
}

// Normalize shifts spans so the earliest starts at zero and orders them by start.
func Normalize(spans []Span) []Span {
	if len(spans) == 0 {
		return nil
	}
	out := slices.Clone(spans)
	t0 := out[0].Start
	for _, s := range out {
		t0 = min(t0, s.Start)
	}
	for i := range out {
		out[i].Start -= t0
		out[i].End -= t0
	}
	slices.SortStableFunc(out, func(a, b Span) int { return int(a.Start - b.Start) })
	return out
}

// Format prints a value in its unit: "1.02 s", "350 ms", "40", "3.1×".
func Format(u Unit, v float64) string {
	switch u {
	case Millis:
		if math.Abs(v) >= 1000 {
			return fmt.Sprintf("%.2f s", v/1000)
		}
		if math.Abs(v) < 10 {
			return fmt.Sprintf("%.1f ms", v)
		}
		return fmt.Sprintf("%.0f ms", v)
	case Ratio:
		return fmt.Sprintf("%.1f×", v)
	default:
		if v == math.Trunc(v) {
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprintf("%.1f", v)
	}
}

func formatSamples(u Unit, s []float64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = Format(u, v)
	}
	return strings.Join(parts, ", ")
}

func median(s []float64) float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Ms converts a duration to float milliseconds, the unit of [Millis].
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Deadline is the longest any single wait inside a check may take before the
// check gives up and says so. The checker's own timeout is a backstop.
const Deadline = 5 * time.Second

// Since returns the time elapsed since t0 as a duration relative to a
// measurement's start, for building spans.
func Since(t0 time.Time) time.Duration { return time.Since(t0) }
