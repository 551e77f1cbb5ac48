package checker

// Verdict is the outcome of one check run.
type Verdict string

// The verdicts a run can end with.
const (
	Pass       Verdict = "pass"        // every check passed
	Fail       Verdict = "fail"        // some check failed, or the learner's code panicked
	BuildError Verdict = "build-error" // the learner's code does not compile
	Timeout    Verdict = "timeout"     // the checks did not finish within the lesson's limit
	Error      Verdict = "error"       // the tutor could not run the checks at all
)

// Result is everything one run of a lesson's hidden checks found.
type Result struct {
	Lesson      string         `json:"lesson"`
	Verdict     Verdict        `json:"verdict"`
	Summary     string         `json:"summary"` // one line for a status bar
	Checks      []Check        `json:"checks"`
	BuildErrors []CompileError `json:"build_errors"`
	// Output is what the learner's code printed, capped at OutputCap bytes:
	// the first and the last part, with a line saying how much was dropped
	// between them.
	Output          string `json:"output"`
	OutputTruncated bool   `json:"output_truncated,omitempty"`
	// OutputDropped counts the bytes of the learner's output not kept.
	OutputDropped int64 `json:"output_dropped,omitempty"`
	ElapsedMS     int64 `json:"elapsed_ms"`
	// Timeline is the spans of the most telling check: the first failing
	// check that recorded some, else the first check that did.
	Timeline []Span `json:"timeline"`
	// TimelineCheck names the check the timeline belongs to.
	TimelineCheck string `json:"timeline_check,omitempty"`
	// Running is the check that was running when a timeout or panic hit.
	Running string `json:"running,omitempty"`
	// Panic describes a panic in the learner's code.
	Panic *Panic `json:"panic,omitempty"`
	// Blocked lists, for a timeout, where the learner's goroutines were
	// waiting ("ping.go:14 (sync.Mutex.Lock)").
	Blocked []string `json:"blocked,omitempty"`
	// Notes are remarks about how the run was made ("Ran with the race detector.").
	Notes []string `json:"notes,omitempty"`
	// Phases splits ElapsedMS: "build" (compile and link) and "run".
	Phases map[string]int64 `json:"phases,omitempty"`
}

// Status is how one check ended.
type Status string

// The statuses of a check. Every check the lesson declares has one in every
// Result: a check that never got to run is listed as NotRun with the reason.
const (
	Passed   Status = "passed"    // it ran to its end and passed
	Skipped  Status = "skipped"   // it ran and skipped itself (counts as passed)
	Failed   Status = "failed"    // it failed, panicked, or its test process ended early
	TimedOut Status = "timed-out" // it was running when the time limit ran out
	NotRun   Status = "not-run"   // it never started; Message says why
)

// Check is one hidden check's outcome.
type Check struct {
	Name   string `json:"name"`
	Title  string `json:"title,omitempty"`
	Status Status `json:"status"`
	// Passed is Status == Passed or Skipped; Skipped is Status == Skipped.
	Passed     bool      `json:"passed"`
	Skipped    bool      `json:"skipped,omitempty"`
	Message    string    `json:"message"`
	Measures   []Measure `json:"measures,omitempty"`
	Remeasured bool      `json:"remeasured,omitempty"`
	Timeline   []Span    `json:"timeline,omitempty"`
}

// Measure is one judged measurement of a check.
type Measure struct {
	What    string    `json:"what"`
	Unit    string    `json:"unit"`
	Samples []float64 `json:"samples"`
	Value   float64   `json:"value"`
	Bound   float64   `json:"bound"`
	Rule    string    `json:"rule"` // "max" or "min"
	Passed  bool      `json:"passed"`
}

// Span is one bar of the timeline, in milliseconds from the check's start.
type Span struct {
	Label   string  `json:"label"`
	StartMS float64 `json:"start_ms"`
	EndMS   float64 `json:"end_ms"`
	Outcome string  `json:"outcome,omitempty"`
}

// CompileError is one compile error, located in the learner's file.
type CompileError struct {
	File    string `json:"file"` // relative to the workspace, slash-separated
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// Panic is a panic raised by the learner's code during a check.
type Panic struct {
	Message string `json:"message"`
	File    string `json:"file,omitempty"` // the learner's frame, relative to the workspace
	Line    int    `json:"line,omitempty"`
}
