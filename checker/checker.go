// Package checker runs a lesson's hidden tests against the learner's files
// and returns a structured [Result]: a verdict, each check's message with its
// numbers, compile errors located in the learner's files, the learner's own
// output and the timeline of the run.
//
// The hidden tests are never written into the workspace: they are added to
// the learner's package with `go test -overlay`, whose backing files live in
// a scratch directory outside the workspace. Each run's processes share one
// process group, which is killed when the run ends, is cancelled or times out,
// so nothing the learner's code started survives it.
//
// The checker knows nothing about lessons, HTTP or watching; callers describe
// a run with a [Job].
package checker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// OutputCap bounds how much of the learner's own output a Result keeps.
const OutputCap = 8 << 10

// checkTag is the build-constraint line hidden check files start with; it
// keeps them out of the tutor module's build and is stripped here.
const checkTag = "//go:build tutorcheck"

// runGrace is how long after the checks' own time limit the checker waits
// for the test binary to print its timeout report before killing the group.
const runGrace = 3 * time.Second

// buildLimit bounds the compile phase, which is slow only on a cold cache.
const buildLimit = 5 * time.Minute

// Job describes one run of hidden checks.
type Job struct {
	Lesson string // copied into the Result
	Root   string // the workspace module root, absolute
	Dir    string // the lesson's package directory, relative to Root ("02-event-loop")
	// Files are the learner's files in Dir (base names); errors and panics in
	// other files of Dir are still the learner's, these just come first.
	Files []string
	// Checks are the hidden test files, name → content.
	Checks map[string][]byte
	// Harness holds the harness package's files, name → content; they are
	// overlaid at Root/harness.
	Harness map[string][]byte
	// Replace substitutes the content of learner files, base name → content,
	// without touching the disk (verification uses it to run variants).
	Replace map[string][]byte
	// Timeout limits the run of the checks (not the compile).
	Timeout time.Duration
	// Race asks for the race detector; it is used only where it works.
	Race bool
	// Env is added to the environment of the test run.
	Env []string
	// BuildOnly compiles everything the run needs without running a check,
	// to warm the Go build cache.
	BuildOnly bool
	// OnProgress, if set, is called each time a check starts or ends, with
	// what the run has shown so far, so a display can show each check's
	// outcome as soon as it is known instead of after the last one. It is
	// called from the goroutine that reads the run's output and must return
	// quickly. The Result of Run stays the only verdict.
	OnProgress func(Progress)
}

// Progress is how far a run has got: the checks that have ended, in order,
// with their messages and measurements, and the one running now.
type Progress struct {
	Done    []Check `json:"done"`
	Running string  `json:"running,omitempty"`
}

// Runner runs jobs. The zero value is not usable; use [NewRunner].
type Runner struct {
	goBin   string
	scratch string

	raceOnce sync.Once
	raceOK   bool
	raceWhy  string
}

// NewRunner returns a runner that uses the go command goBin ("" → "go") and
// keeps overlay backing files in scratch, a directory outside any workspace.
func NewRunner(goBin, scratch string) (*Runner, error) {
	if goBin == "" {
		goBin = "go"
	}
	p, err := exec.LookPath(goBin)
	if err != nil {
		return nil, fmt.Errorf("find the go command: %w (install Go 1.26 or later from https://go.dev/dl/)", err)
	}
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, fmt.Errorf("create scratch directory: %w", err)
	}
	return &Runner{goBin: p, scratch: scratch}, nil
}

// Go returns the path of the go command the runner uses.
func (r *Runner) Go() string { return r.goBin }

// Run compiles and runs job's hidden checks. The error is non-nil only when
// ctx ended first (the caller no longer wants the result); every other
// problem is a Result with verdict Error.
func (r *Runner) Run(ctx context.Context, job Job) (*Result, error) {
	start := time.Now()
	res := r.run(ctx, job)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Lesson = job.Lesson
	res.ElapsedMS = time.Since(start).Milliseconds()
	res.Summary = summarize(res)
	if res.Checks == nil {
		res.Checks = []Check{}
	}
	if res.BuildErrors == nil {
		res.BuildErrors = []CompileError{}
	}
	if res.Timeline == nil {
		res.Timeline = []Span{}
	}
	return res, nil
}

func errorResult(format string, args ...any) *Result {
	return &Result{Verdict: Error, Summary: fmt.Sprintf(format, args...)}
}

func (r *Runner) run(ctx context.Context, job Job) *Result {
	if job.Timeout <= 0 {
		job.Timeout = 20 * time.Second
	}
	runDir, err := os.MkdirTemp(r.scratch, "run-")
	if err != nil {
		return errorResult("cannot create a scratch directory: %v", err)
	}
	defer os.RemoveAll(runDir)

	overlay, hidden, err := r.overlay(job)
	if err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	ovPath := filepath.Join(runDir, "overlay.json")
	if err := writeJSON(ovPath, overlay); err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	report := filepath.Join(runDir, "report.jsonl")

	args := []string{"test", "-json", "-count=1", "-vet=off", "-overlay", ovPath,
		"-timeout", job.Timeout.String(), "-ldflags=-s -w"}
	race, raceNote := false, ""
	if job.Race {
		if ok, why := r.RaceSupported(ctx); ok {
			race = true
			args = append(args, "-race")
		} else {
			raceNote = "The race detector is not available here (" + why + "), so data races are judged by their effects only."
		}
	}
	if job.BuildOnly {
		args = append(args, "-run", "^$")
	}
	args = append(args, "./"+filepath.ToSlash(job.Dir))

	// The compiler and linker run without garbage collection (they live
	// for a moment; it saves about a tenth of the build). The test binary
	// inherits that, so the harness sets the learner's GOGC back from
	// TUTOR_GOGC before any of the learner's code runs.
	env := append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "TUTOR_REPORT="+report,
		"GOGC=off", "TUTOR_GOGC="+os.Getenv("GOGC"))
	if race {
		env = append(env, "GORACE=atexit_sleep_ms=0 halt_on_error=0")
	}
	env = append(env, job.Env...)

	ex := &execution{job: job, backed: hidden, root: job.Root, report: report}
	runErr := ex.exec(ctx, r.goBin, args, env)
	if ctx.Err() != nil {
		return nil
	}
	res := ex.result(runErr)
	if recs, err := readReport(report); err == nil {
		mergeReport(res, recs)
	}
	if ex.raceNote != "" {
		// The race goes first on the first failing check (the testing
		// package fails the test that was running when it was found).
		for i := range res.Checks {
			if !res.Checks[i].Passed {
				res.Checks[i].Message = strings.TrimSpace(ex.raceNote + " " + res.Checks[i].Message)
				break
			}
		}
	}
	if raceNote != "" && res.Verdict != BuildError {
		res.Notes = append(res.Notes, raceNote)
	}
	if race {
		res.Notes = append(res.Notes, "Ran with the race detector.")
	}
	return res
}

// overlay builds the -overlay file map: hidden checks into the lesson's
// package, the harness package beside it, and any replaced learner files.
// It returns the map and, for every backing file, the path it stands for.
func (r *Runner) overlay(job Job) (map[string]any, map[string]string, error) {
	repl := map[string]string{}
	backed := map[string]string{} // backing path → virtual path
	add := func(virtual string, content []byte) error {
		backing, err := r.backing(filepath.Base(virtual), content)
		if err != nil {
			return err
		}
		repl[virtual] = backing
		backed[backing] = virtual
		return nil
	}
	dir := filepath.Join(job.Root, job.Dir)
	for name, b := range job.Checks {
		b = bytes.TrimPrefix(b, []byte(checkTag+"\n"))
		if err := add(filepath.Join(dir, "zz_tutor_"+name), b); err != nil {
			return nil, nil, err
		}
	}
	for name, b := range job.Harness {
		if err := add(filepath.Join(job.Root, "harness", name), b); err != nil {
			return nil, nil, err
		}
	}
	for name, b := range job.Replace {
		if err := add(filepath.Join(dir, name), b); err != nil {
			return nil, nil, err
		}
	}
	return map[string]any{"Replace": repl}, backed, nil
}

// backing stores content under a name derived from its hash, so identical
// content keeps an identical path and the Go build cache stays warm.
func (r *Runner) backing(name string, content []byte) (string, error) {
	sum := sha256.Sum256(content)
	dir := filepath.Join(r.scratch, "files", hex.EncodeToString(sum[:8]))
	p := filepath.Join(dir, name)
	if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, content) {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// RaceSupported reports whether `go test -race` works here, probing once.
func (r *Runner) RaceSupported(ctx context.Context) (bool, string) {
	r.raceOnce.Do(func() {
		dir, err := os.MkdirTemp(r.scratch, "race-")
		if err != nil {
			r.raceWhy = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module raceprobe\n\ngo 1.26\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "p.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
		cmd := exec.CommandContext(ctx, r.goBin, "build", "-race", "-o", os.DevNull, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
			if line == "" {
				line = err.Error()
			}
			r.raceWhy = line
			return
		}
		r.raceOK = true
	})
	return r.raceOK, r.raceWhy
}

// event is one line of `go test -json`.
type event struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Output      string
	FailedBuild string
}

// execution holds what one go test process printed.
type execution struct {
	job    Job
	root   string
	backed map[string]string // overlay backing path → the virtual path it stands for
	report string            // the harness's report file

	buildOut  []string
	started   time.Time // when the test binary started ("start" event)
	began     time.Time
	buildFail bool
	killedBy  string // "timeout" when our own deadline killed the group
	stderr    bytes.Buffer

	order    []string          // top-level tests in the order they started
	outcome  map[string]string // test → "pass", "fail", "skip"
	logs     map[string][]string
	output   bytes.Buffer // the learner's output
	raw      bytes.Buffer // every output line, for panics and timeouts
	pkgFail  bool
	panicIn  string // the test whose output carried a panic
	raceNote string // what the race detector found, if anything
	dumping  bool   // a panic or timeout dump is being printed: not the learner's output
}

func (ex *execution) exec(ctx context.Context, goBin string, args, env []string) error {
	ex.outcome = map[string]string{}
	ex.logs = map[string][]string{}
	ex.began = time.Now()

	cmd := exec.Command(goBin, args...)
	cmd.Dir = ex.root
	cmd.Env = env
	cmd.Stderr = &limitedWriter{w: &ex.stderr, n: 64 << 10}
	setGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Kill the whole group when the caller cancels or a deadline passes.
	// The goroutine exits when the command has been waited for (done).
	done := make(chan struct{})
	deadline := time.NewTimer(buildLimit)
	runStarted := make(chan struct{}, 1)
	var killOnce sync.Once
	kill := func(why string) {
		killOnce.Do(func() {
			ex.killedBy = why
			killGroup(cmd)
		})
	}
	go func() {
		defer deadline.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				kill("cancelled")
				return
			case <-runStarted:
				deadline.Reset(ex.job.Timeout + runGrace)
			case <-deadline.C:
				kill("timeout")
				return
			}
		}
	}()

	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			ex.raw.Write(sc.Bytes())
			ex.raw.WriteByte('\n')
			continue
		}
		if e.Action == "start" && ex.started.IsZero() {
			ex.started = time.Now()
			select {
			case runStarted <- struct{}{}:
			default:
			}
		}
		ex.add(e)
		if ex.job.OnProgress != nil && e.Test != "" && !strings.Contains(e.Test, "/") {
			switch e.Action {
			case "run", "pass", "fail", "skip":
				ex.job.OnProgress(ex.progress())
			}
		}
	}
	err = cmd.Wait()
	close(done)
	// The test binary may have left children behind (the learner's code can
	// start processes); they share the group, so end them all.
	killGroup(cmd)
	return err
}

func (ex *execution) add(e event) {
	switch e.Action {
	case "build-output":
		ex.buildOut = append(ex.buildOut, strings.TrimRight(e.Output, "\n"))
		return
	case "build-fail":
		ex.buildFail = true
		return
	}
	if e.FailedBuild != "" {
		ex.buildFail = true
	}
	top := e.Test != "" && !strings.Contains(e.Test, "/")
	root := e.Test
	if i := strings.Index(root, "/"); i >= 0 {
		root = root[:i]
	}
	switch e.Action {
	case "run":
		if top {
			ex.order = append(ex.order, e.Test)
		}
	case "pass", "fail", "skip":
		if top {
			ex.outcome[e.Test] = e.Action
		}
		if e.Test == "" && e.Action == "fail" {
			ex.pkgFail = true
		}
	case "output":
		ex.raw.WriteString(e.Output)
		if strings.HasPrefix(e.Output, "panic: ") {
			ex.dumping = true
			if ex.panicIn == "" {
				ex.panicIn = root
			}
		}
		if ex.dumping || isFrameworkLine(e.Output) {
			return
		}
		if root != "" && isTestLog(e.Output) {
			ex.logs[root] = append(ex.logs[root], strings.TrimSpace(e.Output))
			return
		}
		if root != "" && len(ex.logs[root]) > 0 && strings.HasPrefix(e.Output, "        ") {
			// continuation of a multi-line t.Log
			ex.logs[root][len(ex.logs[root])-1] += " " + strings.TrimSpace(e.Output)
			return
		}
		ex.output.WriteString(e.Output)
	}
}

// isFrameworkLine reports lines the testing package prints itself.
func isFrameworkLine(s string) bool {
	t := strings.TrimSpace(s)
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP", "PASS", "FAIL", "ok  \t", "ok \t"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return t == "" && s == "\n"
}

// isTestLog reports a t.Log/t.Error line of a hidden check or the harness:
// indented, then "zz_tutor_…_test.go:NN: " or "harness.go:NN: ".
func isTestLog(s string) bool {
	t := strings.TrimLeft(s, " ")
	return len(t) < len(s) && testLogRE.MatchString(t)
}

var testLogRE = regexp.MustCompile(`^(zz_tutor_\w+\.go|harness\.go|load\.go):\d+: `)

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	l.w.Write(q)
	return len(p), nil
}

// progress is what the run has shown so far. A check's record is in the
// report file by the time its end is announced (the harness writes it in
// the test's cleanup), so ended checks carry their messages.
func (ex *execution) progress() Progress {
	var p Progress
	partial := &Result{}
	for _, name := range ex.order {
		outcome, done := ex.outcome[name]
		if !done {
			p.Running = strings.TrimPrefix(name, "Test")
			continue
		}
		c := Check{Name: strings.TrimPrefix(name, "Test"), Passed: outcome != "fail", Skipped: outcome == "skip"}
		c.Message = ex.scrub(logMessage(ex.logs[name]))
		partial.Checks = append(partial.Checks, c)
	}
	if len(partial.Checks) > 0 {
		if recs, err := readReport(ex.report); err == nil {
			mergeReport(partial, recs)
		}
	}
	p.Done = partial.Checks
	return p
}

func (ex *execution) result(runErr error) *Result {
	res := &Result{}
	if ex.started.IsZero() {
		res.Phases = map[string]int64{"build": time.Since(ex.began).Milliseconds()}
	} else {
		res.Phases = map[string]int64{
			"build": ex.started.Sub(ex.began).Milliseconds(),
			"run":   time.Since(ex.started).Milliseconds(),
		}
	}
	out := ex.output.String()
	if len(out) > OutputCap {
		out, res.OutputTruncated = out[:OutputCap], true
	}
	res.Output = ex.scrub(out)

	if ex.buildFail || (len(ex.buildOut) > 0 && ex.started.IsZero()) {
		res.Verdict = BuildError
		res.BuildErrors = ex.compileErrors()
		if len(res.BuildErrors) == 0 {
			res.BuildErrors = []CompileError{{Message: ex.scrub(strings.Join(ex.buildOut, "\n"))}}
		}
		return res
	}
	if ex.started.IsZero() {
		if ex.killedBy == "timeout" {
			res.Verdict = Error
			res.Summary = "compiling took longer than " + buildLimit.String()
			return res
		}
		msg := strings.TrimSpace(ex.stderr.String())
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		res.Verdict = Error
		res.Summary = "the checks could not start: " + firstLine(ex.scrub(msg))
		return res
	}

	raw := ex.raw.String()
	for _, name := range ex.order {
		c := Check{Name: strings.TrimPrefix(name, "Test")}
		switch ex.outcome[name] {
		case "pass":
			c.Passed = true
		case "skip":
			c.Passed, c.Skipped = true, true
		}
		c.Message = ex.scrub(logMessage(ex.logs[name]))
		res.Checks = append(res.Checks, c)
	}
	running := ""
	for _, name := range ex.order {
		if _, done := ex.outcome[name]; !done {
			running = strings.TrimPrefix(name, "Test")
		}
	}
	timedOut := ex.killedBy == "timeout" || strings.Contains(raw, "panic: test timed out after")
	switch {
	case timedOut:
		res.Verdict = Timeout
		if running == "" {
			running = timedOutTest(raw)
		}
		res.Running = running
		res.Blocked = ex.blocked(raw)
		for i := range res.Checks {
			if res.Checks[i].Name == running {
				res.Checks[i].Passed = false
				res.Checks[i].Message = fmt.Sprintf("did not finish within the %s limit", ex.job.Timeout)
				if len(res.Blocked) > 0 {
					res.Checks[i].Message += "; your goroutines were waiting at " + strings.Join(res.Blocked, ", ")
				}
			}
		}
	case strings.Contains(raw, "\npanic: ") || strings.HasPrefix(raw, "panic: "):
		res.Verdict = Fail
		res.Panic = ex.panicInfo(raw)
		if running == "" {
			running = strings.TrimPrefix(ex.panicIn, "Test")
		}
		res.Running = running
		for i := range res.Checks {
			if res.Checks[i].Name == running || (running == "" && !res.Checks[i].Passed) {
				res.Checks[i].Passed = false
				res.Checks[i].Message = "your code panicked: " + res.Panic.Message
				if res.Panic.File != "" {
					res.Checks[i].Message += fmt.Sprintf(" (at %s:%d)", res.Panic.File, res.Panic.Line)
				}
			}
		}
	default:
		res.Verdict = Pass
		for _, c := range res.Checks {
			if !c.Passed {
				res.Verdict = Fail
			}
		}
		if ex.pkgFail && res.Verdict == Pass {
			res.Verdict = Fail
			if len(res.Checks) == 0 {
				res.Verdict = Error
				res.Summary = "the checks failed before any of them ran: " + firstLine(ex.scrub(strings.TrimSpace(raw)))
			}
		}
		if len(res.Checks) == 0 && res.Verdict == Pass && !ex.job.BuildOnly {
			res.Verdict = Error
			res.Summary = "no checks ran"
		}
	}
	if strings.Contains(raw, "WARNING: DATA RACE") {
		ex.raceNote = "The race detector found a data race: two goroutines used the same memory without synchronisation"
		if locs := ex.raceFrames(raw); len(locs) > 0 {
			ex.raceNote += " (" + strings.Join(locs, " and ") + ")"
		}
		ex.raceNote += "."
		if res.Verdict == Pass {
			res.Verdict = Fail
		}
	}
	return res
}

func logMessage(lines []string) string {
	var parts []string
	for _, l := range lines {
		// drop "zz_tutor_check_test.go:42: " — the location of the hidden test
		if _, msg, ok := strings.Cut(l, ": "); ok && testLogRE.MatchString(l) {
			l = msg
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// firstSentence returns s up to the first ". " (the measured value, in the
// harness's messages), for one-line summaries.
func firstSentence(s string) string {
	s = firstLine(s)
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func summarize(r *Result) string {
	if r.Summary != "" && (r.Verdict == Error) {
		return r.Summary
	}
	switch r.Verdict {
	case Pass:
		return fmt.Sprintf("pass: %d of %d checks passed", len(r.Checks), len(r.Checks))
	case BuildError:
		if len(r.BuildErrors) > 0 {
			e := r.BuildErrors[0]
			if e.File != "" {
				return fmt.Sprintf("build error: %s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
			}
			return "build error: " + firstLine(e.Message)
		}
		return "build error"
	case Timeout:
		if r.Running != "" {
			return "timeout: " + r.Running + " did not finish"
		}
		return "timeout"
	case Fail:
		for _, c := range r.Checks {
			if !c.Passed {
				return "fail: " + c.Name + ": " + firstSentence(c.Message)
			}
		}
		return "fail"
	}
	return string(r.Verdict)
}

// readReport reads the harness's records.
func readReport(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []record
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return out, fmt.Errorf("report: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// record mirrors harness.Record, the JSON contract between the hidden checks
// and the checker (the harness cannot import this package: it is compiled
// inside the learner's module). TestRecordContract keeps the two in step.
type record struct {
	Check      string    `json:"check"`
	Title      string    `json:"title"`
	Passed     bool      `json:"passed"`
	Message    string    `json:"message"`
	Measures   []Measure `json:"measures"`
	Remeasured bool      `json:"remeasured"`
	Timeline   []struct {
		Label   string `json:"label"`
		Start   int64  `json:"start_ns"`
		End     int64  `json:"end_ns"`
		Outcome string `json:"outcome"`
	} `json:"timeline"`
}

// mergeReport adds the harness's titles, messages, measures and timelines
// to the checks go test reported. The test outcome stays authoritative.
func mergeReport(res *Result, recs []record) {
	for _, rec := range recs {
		i := slices.IndexFunc(res.Checks, func(c Check) bool { return c.Name == rec.Check })
		if i < 0 {
			continue
		}
		c := &res.Checks[i]
		c.Title = rec.Title
		if rec.Message != "" && !(c.Message != "" && !c.Passed && strings.HasPrefix(c.Message, "your code panicked")) {
			c.Message = rec.Message
		}
		c.Measures = rec.Measures
		c.Remeasured = rec.Remeasured
		for _, s := range rec.Timeline {
			c.Timeline = append(c.Timeline, Span{Label: s.Label, StartMS: float64(s.Start) / 1e6, EndMS: float64(s.End) / 1e6, Outcome: s.Outcome})
		}
	}
	pick := -1
	for i, c := range res.Checks {
		if len(c.Timeline) > 0 && !c.Passed {
			pick = i
			break
		}
	}
	if pick < 0 {
		pick = slices.IndexFunc(res.Checks, func(c Check) bool { return len(c.Timeline) > 0 })
	}
	if pick >= 0 {
		res.Timeline = res.Checks[pick].Timeline
		res.TimelineCheck = res.Checks[pick].Name
	}
}
