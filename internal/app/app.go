// Package app connects the tutor's parts: it turns lessons into checker jobs,
// records results in the learner's progress, verifies the course, and (in
// serve.go) runs the watch → check → publish loop behind the web page.
//
// It is the only package that knows all of lessons, workspace, checker,
// watch and site; they know nothing of each other beyond their inputs.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// App is a course, a workspace and a checker.
type App struct {
	Course *lessons.Course
	WS     *workspace.Workspace
	Runner *checker.Runner
	// Progress is the workspace's progress store.
	Progress *workspace.Store
}

// New loads nothing by itself: it wires a loaded course to a workspace and
// a runner whose scratch files live in the user's cache directory.
func New(c *lessons.Course, ws *workspace.Workspace, goBin string) (*App, error) {
	r, err := checker.NewRunner(goBin, ScratchDir())
	if err != nil {
		return nil, err
	}
	return &App{Course: c, WS: ws, Runner: r, Progress: ws.Progress()}, nil
}

// ScratchDir is where overlay files and temporary verification workspaces
// live: outside every workspace.
func ScratchDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gotutor")
	}
	return filepath.Join(os.TempDir(), "gotutor")
}

// Job returns the checker job for a lesson in root (a workspace directory).
// replace substitutes file contents without touching the disk.
func (a *App) Job(root string, l *lessons.Lesson, replace map[string][]byte) checker.Job {
	return checker.Job{
		Lesson:  l.ID,
		Root:    root,
		Dir:     l.ID,
		Files:   l.Files,
		Checks:  l.Checks,
		Harness: a.Course.Harness,
		Replace: replace,
		Timeout: l.Timeout,
		Race:    l.Race,
		Unix:    l.Unix,
	}
}

// Check runs a lesson's checks against the learner's files and records the
// verdict in the progress. The error is non-nil only if ctx ended first
// (then the result is nil) or the progress could not be saved (then the
// result is still returned, and the error matches [workspace.ErrNotSaved]).
// onProgress, if not nil, is the job's [checker.Job.OnProgress]: it is
// first called when the build is done and the first check starts.
func (a *App) Check(ctx context.Context, l *lessons.Lesson, onProgress func(checker.Progress)) (*checker.Result, error) {
	fp := a.WS.Fingerprint(l)
	job := a.Job(a.WS.Root, l, nil)
	job.OnProgress = onProgress
	res, err := a.Runner.Run(ctx, job)
	if err != nil {
		return nil, err
	}
	if res.Verdict == checker.Error {
		return res, nil // the tutor's problem, not an attempt
	}
	_, err = a.Progress.Update(func(p *workspace.Progress) {
		p.Lesson(l.ID).Record(string(res.Verdict), fp, time.Now())
	})
	if err != nil && !errors.Is(err, workspace.ErrNotSaved) {
		err = fmt.Errorf("%w: %v", workspace.ErrNotSaved, err)
	}
	return res, err
}

// Status returns a lesson's status for the list and the map.
func Status(p *workspace.Progress, l *lessons.Lesson) workspace.Status {
	if p == nil {
		return workspace.NotStarted
	}
	if lp, ok := p.Lessons[l.ID]; ok && lp.Status != "" {
		return lp.Status
	}
	return workspace.NotStarted
}

// Next returns the first lesson not passed, or the last lesson if all are.
func (a *App) Next(p *workspace.Progress) *lessons.Lesson {
	for _, l := range a.Course.Lessons {
		if Status(p, l) != workspace.Passed {
			return l
		}
	}
	return a.Course.Lessons[len(a.Course.Lessons)-1]
}

// Warm compiles every lesson's checks once, so the learner's first check
// does not wait for the Go build cache (over a minute when it is empty).
// report is called before each lesson with (done, total, lesson ID).
func (a *App) Warm(ctx context.Context, root string, report func(done, total int, id string)) error {
	n := len(a.Course.Lessons)
	for i, l := range a.Course.Lessons {
		if report != nil {
			report(i, n, l.ID)
		}
		job := a.Job(root, l, nil)
		job.BuildOnly = true
		if _, err := a.Runner.Run(ctx, job); err != nil {
			return err
		}
	}
	if report != nil {
		report(n, n, "")
	}
	return nil
}

// RevealHint reveals the next hint of a lesson (or all of them) and
// returns how many are now shown (also when that could not be saved: the
// error then matches [workspace.ErrNotSaved]). The page, `tutor hint` and the terminal
// mode all go through here.
func (a *App) RevealHint(l *lessons.Lesson, all bool) (int, error) {
	shown := 0
	_, err := a.Progress.Update(func(p *workspace.Progress) {
		lp := p.Lesson(l.ID)
		switch {
		case all:
			lp.HintsShown = len(l.Hints)
		case lp.HintsShown < len(l.Hints):
			lp.HintsShown++
		}
		shown = lp.HintsShown
	})
	return shown, err
}

// ErrNotPassed is returned for a solution asked for before passing.
var ErrNotPassed = errors.New("the solution unlocks when the lesson passes")

// Solution returns a lesson's reference files once it has passed; with
// force, before that too, recording the lesson as assisted. If that record
// cannot be saved, the files come back with an error matching
// [workspace.ErrNotSaved].
func (a *App) Solution(l *lessons.Lesson, force bool) (map[string][]byte, error) {
	p, err := a.Progress.Load()
	if err != nil {
		return nil, err
	}
	if Status(p, l) != workspace.Passed {
		if !force {
			return nil, ErrNotPassed
		}
		if _, err := a.Progress.Update(func(p *workspace.Progress) { p.Lesson(l.ID).Assisted = true }); err != nil {
			if errors.Is(err, workspace.ErrNotSaved) {
				return l.Solution().Files, err
			}
			return nil, err
		}
	}
	return l.Solution().Files, nil
}
