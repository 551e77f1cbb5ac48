package checker

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file decides. The checks a lesson declares are read from the hidden
// test files themselves, and every one of them is accounted for in every
// Result: passed, failed, timed out, or not run with the reason. A check
// passes only if its test process ran to its end (exit status 0) and the
// harness report holds a passing record for it: a process that ended early,
// whatever it printed, never passes.

// declaredChecks returns the top-level test functions of the hidden check
// files (func TestXxx(t *testing.T)), in the order go test runs them: files
// by name, functions in source order.
func declaredChecks(files map[string][]byte) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := parser.ParseFile(fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("read the checks: %w", err)
		}
		testing := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "testing" {
				testing = "testing"
				if imp.Name != nil {
					testing = imp.Name.Name
				}
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if ok && fd.Recv == nil && isTestName(fd.Name.Name) && takesT(fd.Type, testing) {
				out = append(out, fd.Name.Name)
			}
		}
	}
	return out, nil
}

// isTestName reports a name go test runs as a test: "Test", then nothing or
// a character that is not a lower-case letter.
func isTestName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Test")
	if !ok {
		return false
	}
	return rest == "" || !(rest[0] >= 'a' && rest[0] <= 'z')
}

// takesT reports a signature func(*testing.T) with no results.
func takesT(ft *ast.FuncType, testing string) bool {
	if testing == "" || ft.Results != nil || len(ft.Params.List) != 1 || len(ft.Params.List[0].Names) > 1 {
		return false
	}
	star, ok := ft.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == testing && sel.Sel.Name == "T"
}

// checkName is a test function's name as the learner sees it.
func checkName(test string) string { return strings.TrimPrefix(test, "Test") }

// checkRun is everything one check's test process left: how it ended, what
// it printed and what the harness reported.
type checkRun struct {
	test    string // "TestConcurrent"
	end     procEnd
	out     *capture
	recs    []record
	recErr  error
	limit   time.Duration // the time limit of the lesson's checks
	located *locator
}

// timedOut reports whether the check was still running when the time
// limit ran out: the checker's deadline passed, or the testing package's
// own alarm fired (it panics with "test timed out", exit status 2).
func (r *checkRun) timedOut() bool {
	return r.end.stopped == stopTimeout ||
		(r.end.exitCode() == 2 && strings.Contains(string(r.out.dump.head), "panic: test timed out after"))
}

// panicked reports a panic: exit status 2 with a dump that starts with one.
func (r *checkRun) panicked() bool {
	d := string(r.out.dump.head)
	return r.end.exitCode() == 2 && (strings.Contains(d, "panic: ") || strings.Contains(d, "fatal error: "))
}

// judge decides one check's outcome from its run.
func (r *checkRun) judge() (Check, *Panic, []string) {
	name := checkName(r.test)
	c := Check{Name: name, Status: Failed}
	rec := recordOf(r.recs, name)
	if rec != nil {
		rec.apply(&c)
	}
	exit := r.end.exitCode()
	switch {
	case r.timedOut():
		c.Status = TimedOut
		blocked := r.located.blocked(r.out.dump.String())
		c.Message = fmt.Sprintf("did not finish within the %s limit", r.limit)
		if len(blocked) > 0 {
			c.Message += "; your goroutines were at " + strings.Join(blocked, ", ")
		}
		return c, nil, blocked
	case r.panicked():
		p := r.located.panicInfo(r.out.dump.String())
		c.Message = "your code panicked: " + p.Message
		if p.File != "" {
			c.Message += fmt.Sprintf(" (at %s:%d)", p.File, p.Line)
		}
		return c, p, nil
	case rec == nil && r.recErr != nil:
		c.Message = "the check's report could not be read: " + r.recErr.Error()
	case rec == nil && r.end.ran && !r.end.exited:
		c.Message = fmt.Sprintf("the test process was stopped (%s) during %s before the check reported its result", r.end.describe(), name)
	case rec == nil:
		c.Message = exitedMessage(name, exit)
		if logs := logMessage(r.out.logs); logs != "" {
			c.Message += " " + logs
		}
	case exit == 0 && rec.Passed:
		c.Status = Passed
		if r.out.ended(r.test) == "skip" {
			c.Status = Skipped
		}
	case !rec.Passed:
		// the record's message says why
	default:
		c.Message = strings.TrimSpace(fmt.Sprintf("the check's measurements passed, but its test process then ended with %s. %s", r.end.describe(), c.Message))
	}
	c.Passed = c.Status == Passed || c.Status == Skipped
	c.Skipped = c.Status == Skipped
	return c, nil, nil
}

// exitedMessage explains a test process that ended before its check
// reported a result.
func exitedMessage(name string, exit int) string {
	if exit == 0 {
		return "the test process exited during " + name + ": os.Exit or syscall.Exit in your code? (the check never reported its result)"
	}
	return fmt.Sprintf("the test process exited during %s with exit status %d: os.Exit or syscall.Exit in your code? (the check never reported its result)", name, exit)
}

// notRun is a check that never started, with the reason.
func notRun(test, why string) Check {
	return Check{Name: checkName(test), Status: NotRun, Message: "not run: " + why}
}

// verdictOf is the run's verdict from its checks: pass only if every
// declared check passed (or skipped itself), timeout if one timed out.
func verdictOf(checks []Check) Verdict {
	if len(checks) == 0 {
		return Error
	}
	v := Pass
	for _, c := range checks {
		switch c.Status {
		case TimedOut:
			return Timeout
		case Passed, Skipped:
		default:
			v = Fail
		}
	}
	return v
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
