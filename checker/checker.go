// Package checker runs a lesson's hidden tests against the learner's files
// and returns a structured [Result]: a verdict, every declared check's
// outcome with its message and numbers, compile errors located in the
// learner's files, the learner's own output and the timeline of the run.
//
// The hidden tests are never written into the workspace: they are added to
// the learner's package with `go test -c -overlay`, whose backing files live
// in a scratch directory outside the workspace. The test binary is built
// once per run and then run once per check, each in a fresh process, so that
// package state one check leaves cannot change the next and a process that
// exits early takes only its own check with it.
//
// Outcomes come from the harness report and each process's exit status,
// never from what the test process printed, which the learner's code can
// forge. Every process has its own process group, killed when it ends, is
// cancelled or times out, and on Linux a parent-death signal, so nothing
// outlives a tutor killed with kill -9 (except processes the learner's code
// deliberately detaches with setsid: the known gap). Output is kept within
// fixed caps whatever the learner's code prints.
//
// The files by job: run.go (processes, groups, time limits, scratch
// directories), events.go (the output stream, capped and classified),
// verdict.go (declared checks and every check's outcome), report.go (the
// harness report), parse.go (compile errors, panics and stacks located in
// the learner's files).
//
// The checker knows nothing about lessons, HTTP or watching; callers describe
// a run with a [Job].
package checker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// for the test binary's own alarm (which prints every goroutine's stack)
// before asking for the dump with SIGQUIT and then killing the group.
const runGrace = 3 * time.Second

// buildLimit bounds the compile phase, which is slow only on a cold cache.
const buildLimit = 5 * time.Minute

// UnixOnly is the one-line answer to a [Job] that needs Unix on a system
// without it.
const UnixOnly = "This lesson's checks need Linux or macOS: they stop a job and every process it started as one process group, which Windows does not have. The other lessons work here."

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
	// Timeout limits the run of the checks (not the compile): all of them
	// together, each in its own process; checks left when it runs out are
	// listed as not run.
	Timeout time.Duration
	// Race asks for the race detector; it is used only where it works.
	Race bool
	// Unix says the checks need a Unix system; elsewhere the run ends with
	// verdict Error and [UnixOnly] as its summary, before anything is built.
	Unix bool
	// Env is added to the environment of the test run.
	Env []string
	// BuildOnly compiles everything the run needs without running a check,
	// to warm the Go build cache.
	BuildOnly bool
	// OnProgress, if set, is called each time a check starts or ends, with
	// what the run has shown so far, so a display can show each check's
	// outcome as soon as it is known instead of after the last one. It is
	// called from the goroutine that called Run and must return quickly.
	// The Result of Run stays the only verdict.
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
	unix    bool // the system has process groups ([ProcessGroups]); tests may clear it

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
	removeStale(scratch)
	return &Runner{goBin: p, scratch: scratch, unix: ProcessGroups}, nil
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
	if job.Unix && !r.unix {
		return errorResult("%s", UnixOnly)
	}
	rd, err := newRunDir(r.scratch, "run-")
	if err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	defer rd.remove()

	declared, err := declaredChecks(stripTags(job.Checks))
	if err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	if len(declared) == 0 && !job.BuildOnly {
		return errorResult("the lesson declares no checks (no func TestXxx(t *testing.T) in its check files)")
	}
	overlay, hidden, err := r.overlay(job)
	if err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	ovPath := filepath.Join(rd.path, "overlay.json")
	if err := writeJSON(ovPath, overlay); err != nil {
		return errorResult("cannot prepare the checks: %v", err)
	}
	loc := &locator{job: job, root: job.Root, backed: hidden}

	race, raceNote := false, ""
	if job.Race {
		if ok, why := r.RaceSupported(ctx); ok {
			race = true
		} else {
			raceNote = "The race detector is not available here (" + why + "), so data races are judged by their effects only."
		}
	}

	// Build the test binary once.
	bin := filepath.Join(rd.path, "checks.test")
	args := []string{"test", "-c", "-json", "-o", bin, "-vet=off", "-overlay", ovPath, "-ldflags=-s -w"}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "./"+filepath.ToSlash(job.Dir))
	buildEnv := append(os.Environ(), buildSettings(race, rd.path)...)
	var buildOut clipped
	buildOut.headMax, buildOut.tailMax = buildCap, -1
	began := time.Now()
	be := runProc(ctx, procSpec{path: r.goBin, args: args, dir: job.Root, env: buildEnv, out: &buildOut, limit: buildLimit}, nil)
	if ctx.Err() != nil {
		return nil
	}
	buildMS := time.Since(began).Milliseconds()
	res := &Result{Phases: map[string]int64{"build": buildMS}}
	lines, failed := buildOutput(buildOut.head)
	if failed || (be.exitCode() != 0 && len(lines) > 0 && be.stopped == stopNone) {
		res.Verdict = BuildError
		res.BuildErrors = loc.compileErrors(lines)
		if len(res.BuildErrors) == 0 {
			res.BuildErrors = []CompileError{{Message: loc.scrub(strings.Join(lines, "\n"))}}
		}
		return res
	}
	if be.stopped == stopTimeout {
		return errorResult("compiling took longer than %s", buildLimit)
	}
	if be.exitCode() != 0 {
		return errorResult("the checks could not be compiled: %s", firstLine(loc.scrub(strings.Join(append(lines, be.describe()), "\n"))))
	}
	if job.BuildOnly {
		res.Verdict = Pass
		return res
	}

	// Run each check in a fresh process of the binary: state one check
	// leaves in the learner's package cannot change the next, and a process
	// that exits early takes only its own check with it.
	env := append(os.Environ(), job.Env...)
	if race {
		env = append(env, "GORACE=atexit_sleep_ms=0 halt_on_error=0")
	}
	runStart := time.Now()
	var runs []*checkRun
	stoppedBy := "" // the check that used up the time limit
	for i, test := range declared {
		if stoppedBy != "" {
			res.Checks = append(res.Checks, notRun(test, "the time limit ("+job.Timeout.String()+") was used up by "+stoppedBy))
			continue
		}
		remaining := job.Timeout - time.Since(runStart)
		if remaining <= 0 {
			stoppedBy = checkName(declared[max(i-1, 0)])
			res.Checks = append(res.Checks, notRun(test, "the time limit ("+job.Timeout.String()+") was used up by "+stoppedBy))
			continue
		}
		cr := &checkRun{test: test, out: &capture{}, limit: job.Timeout, located: loc}
		report := filepath.Join(rd.path, fmt.Sprintf("report-%d.jsonl", i))
		spec := procSpec{
			path: bin, dir: filepath.Join(job.Root, job.Dir),
			args: []string{"-test.run=^" + test + "$", "-test.v=test2json", "-test.paniconexit0",
				"-test.count=1", "-test.timeout=" + remaining.String()},
			env:       append(env, reportEnv+"="+report, "PWD="+filepath.Join(job.Root, job.Dir)),
			out:       cr.out,
			limit:     remaining + runGrace,
			dumpFirst: true,
		}
		cr.end = runProc(ctx, spec, func() { r.progress(job, res.Checks, test) })
		if ctx.Err() != nil {
			return nil
		}
		cr.out.flush()
		cr.recs, cr.recErr = readReport(report)
		if !cr.end.ran && cr.end.err != nil {
			return errorResult("the checks could not start: %v", cr.end.err)
		}
		c, p, blocked := cr.judge()
		c.Message = loc.scrub(c.Message)
		if c.Status == TimedOut {
			stoppedBy = c.Name
			res.Running, res.Blocked = c.Name, blocked
		}
		if p != nil && res.Panic == nil {
			res.Panic, res.Running = p, c.Name
		}
		res.Checks = append(res.Checks, c)
		runs = append(runs, cr)
		r.progress(job, res.Checks, "")
	}
	res.Phases["run"] = time.Since(runStart).Milliseconds()
	res.Verdict = verdictOf(res.Checks)
	collectOutput(res, runs, loc)
	pickTimeline(res)

	for k, cr := range runs {
		if cr.out.racing == 0 {
			continue
		}
		note := "The race detector found a data race: two goroutines used the same memory without synchronisation"
		if locs := loc.raceFrames(cr.out.race.String()); len(locs) > 0 {
			note += " (" + strings.Join(locs, " and ") + ")"
		}
		note += "."
		c := &res.Checks[slices.IndexFunc(res.Checks, func(c Check) bool { return c.Name == checkName(runs[k].test) })]
		c.Status, c.Passed, c.Skipped = Failed, false, false
		c.Message = strings.TrimSpace(note + " " + c.Message)
		if res.Verdict == Pass {
			res.Verdict = Fail
		}
		break // the first race is the one to fix first
	}
	if raceNote != "" {
		res.Notes = append(res.Notes, raceNote)
	}
	if race {
		res.Notes = append(res.Notes, "Ran with the race detector.")
	}
	return res
}

// buildSettings are the environment settings of the build, after the
// tutor's own environment. The compiler and linker run without garbage
// collection (they live for a moment; it saves about a tenth of the build).
// GOTMPDIR keeps the go command's work files in tmp, the run directory,
// which a later start removes if this tutor is killed. Without the race
// detector, cgo is off: no lesson uses it, and with it on the go command
// asks the C compiler for its version on every build (`gcc -###`), about
// 50 ms of every save; the race detector needs cgo.
func buildSettings(race bool, tmp string) []string {
	env := []string{"GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOGC=off", "GOTMPDIR=" + tmp}
	if !race {
		env = append(env, "CGO_ENABLED=0")
	}
	return env
}

// progress reports how far a run has got, if the job asked.
func (r *Runner) progress(job Job, done []Check, running string) {
	if job.OnProgress != nil {
		job.OnProgress(Progress{Done: slices.Clone(done), Running: checkName(running)})
	}
}

// collectOutput joins what the learner's code printed during each check,
// capped at OutputCap: the first and the last part, and a line saying how
// much was dropped between them.
func collectOutput(res *Result, runs []*checkRun, loc *locator) {
	all := clipped{headMax: OutputCap / 2, tailMax: OutputCap / 2}
	var dropped int64
	for _, cr := range runs {
		dropped += cr.out.out.dropped
		all.write([]byte(cr.out.out.String()))
	}
	out := all.String()
	dropped += all.dropped
	res.Output = loc.scrub(out)
	res.OutputDropped = dropped
	res.OutputTruncated = dropped > 0
}

// stripTags removes the build-constraint line hidden check files start with.
func stripTags(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for name, b := range files {
		out[name] = bytes.TrimPrefix(b, []byte(checkTag+"\n"))
	}
	return out
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
		rd, err := newRunDir(r.scratch, "race-")
		if err != nil {
			r.raceWhy = err.Error()
			return
		}
		defer rd.remove()
		dir := rd.path
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module raceprobe\n\ngo 1.26\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "p.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
		var out clipped
		out.headMax, out.tailMax = buildCap, -1
		end := runProc(ctx, procSpec{path: r.goBin, args: []string{"build", "-race", "-o", os.DevNull, "."},
			dir: dir, env: append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOTMPDIR="+dir), out: &out, limit: buildLimit}, nil)
		if end.exitCode() != 0 {
			line := firstLine(string(out.head))
			if line == "" {
				line = end.describe()
			}
			r.raceWhy = line
			return
		}
		r.raceOK = true
	})
	return r.raceOK, r.raceWhy
}
