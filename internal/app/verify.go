package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// Outcome is the verification of one variant in one run.
type Outcome struct {
	Lesson  string
	Variant lessons.Variant
	Run     int
	Result  *checker.Result
	OK      bool   // the variant behaved as declared
	Why     string // when !OK: what went wrong
}

// Judge decides whether a result is what the variant declares: a correct
// solution passes; a wrong one fails (or times out) with every check it
// names failing.
func Judge(v lessons.Variant, res *checker.Result) (bool, string) {
	if v.Expect == lessons.MustPass {
		if res.Verdict == checker.Pass {
			return true, ""
		}
		return false, fmt.Sprintf("want pass, got %s: %s", res.Verdict, res.Summary)
	}
	if res.Verdict != checker.Fail && res.Verdict != checker.Timeout {
		return false, fmt.Sprintf("want fail, got %s: %s", res.Verdict, res.Summary)
	}
	var missing []string
	for _, name := range v.Failing {
		i := slices.IndexFunc(res.Checks, func(c checker.Check) bool { return c.Name == name })
		if i < 0 {
			if res.Verdict == checker.Timeout && res.Running == name {
				continue
			}
			missing = append(missing, name+" (did not run)")
			continue
		}
		switch {
		case res.Checks[i].Status == checker.NotRun:
			missing = append(missing, name+" (did not run)")
		case res.Checks[i].Passed:
			missing = append(missing, name+" (passed)")
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("failed, but not as intended: %s should fail: %s", strings.Join(missing, ", "), res.Summary)
	}
	return true, ""
}

// Verify runs every variant of the given lessons runs times in a scratch
// workspace (never the learner's) and calls report for each outcome.
// It returns the number of outcomes that held and that did not.
func (a *App) Verify(ctx context.Context, ls []*lessons.Lesson, runs int, report func(Outcome)) (passed, failed int, err error) {
	root, err := os.MkdirTemp(ScratchDir(), "verify-")
	if err != nil {
		return 0, 0, fmt.Errorf("create scratch workspace: %w", err)
	}
	defer os.RemoveAll(root)
	ws := &workspace.Workspace{Root: root}
	if _, err := ws.Init(a.Course); err != nil {
		return 0, 0, err
	}
	for run := 1; run <= runs; run++ {
		for _, l := range ls {
			for _, v := range l.Variants {
				res, err := a.Runner.Run(ctx, a.Job(root, l, v.Files))
				if err != nil {
					return passed, failed, err
				}
				ok, why := Judge(v, res)
				if ok {
					passed++
				} else {
					failed++
				}
				if report != nil {
					report(Outcome{Lesson: l.ID, Variant: v, Run: run, Result: res, OK: ok, Why: why})
				}
			}
		}
	}
	return passed, failed, nil
}

// PrintOutcome writes one line per outcome, and the failing check's message
// for wrong variants so authors can read what learners will read.
func PrintOutcome(w io.Writer, o Outcome, verbose bool) {
	mark := "ok  "
	if !o.OK {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "%s run %d  %-26s %-22s %-11s %5d ms", mark, o.Run, o.Lesson, o.Variant.Name, o.Result.Verdict, o.Result.ElapsedMS)
	if !o.OK {
		fmt.Fprintf(w, "  %s", o.Why)
	}
	fmt.Fprintln(w)
	if verbose && o.Variant.Expect == lessons.MustFail {
		for _, c := range o.Result.Checks {
			if !c.Passed {
				fmt.Fprintf(w, "        %s: %s\n", c.Name, c.Message)
			}
		}
	}
}
