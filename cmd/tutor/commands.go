package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

func initCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	noWarm := fs.Bool("no-warm", false, "do not compile the checks now (the first check will then be slow)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("init takes no arguments, got %q", args[0])
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		if err := initWorkspace(a, e.stdout); err != nil {
			return err
		}
		if *noWarm {
			return nil
		}
		return warm(ctx, a, e.stdout)
	}
}

// initWorkspace creates or updates the workspace and says what it did.
func initWorkspace(a *app.App, w io.Writer) error {
	existed := a.WS.Exists()
	rep, err := a.WS.Init(a.Course)
	if err != nil {
		return err
	}
	switch {
	case !existed:
		fmt.Fprintf(w, "Created your workspace at %s (%d files).\n", a.WS.Root, len(rep.Created))
	case len(rep.Created)+len(rep.Updated) > 0:
		fmt.Fprintf(w, "Updated your workspace at %s: %d new files, %d updated.\n", a.WS.Root, len(rep.Created), len(rep.Updated))
	default:
		fmt.Fprintf(w, "Your workspace at %s is up to date.\n", a.WS.Root)
	}
	if len(rep.Kept) > 0 {
		fmt.Fprintf(w, "Kept your changes in %s (reset a lesson to get the new starter).\n", strings.Join(rep.Kept, ", "))
	}
	return nil
}

// warm compiles every lesson's checks, showing progress.
func warm(ctx context.Context, a *app.App, w io.Writer) error {
	start := time.Now()
	fmt.Fprint(w, "Preparing the checks (compiles the Go standard library once; up to a minute the first time)")
	err := a.Warm(ctx, a.WS.Root, func(done, total int, id string) {
		if id != "" {
			fmt.Fprint(w, ".")
		}
	})
	if err != nil {
		fmt.Fprintln(w)
		return err
	}
	fmt.Fprintf(w, " done in %.1f s.\n", time.Since(start).Seconds())
	return nil
}

// lessonJSON is one line of `tutor list --json`.
type lessonJSON struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Module  string   `json:"module"`
	Summary string   `json:"summary"`
	Minutes int      `json:"minutes"`
	Status  string   `json:"status"`
	Files   []string `json:"files"`
}

func listCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	asJSON := fs.Bool("json", false, "print a JSON array")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("list takes no arguments, got %q", args[0])
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		return printList(a, e.stdout, *asJSON)
	}
}

func printList(a *app.App, w io.Writer, asJSON bool) error {
	p, err := a.Progress.Load()
	if err != nil {
		return err
	}
	if asJSON {
		out := []lessonJSON{}
		for _, l := range a.Course.Lessons {
			files := make([]string, len(l.Files))
			for i, f := range l.Files {
				files[i] = workspace.Rel(l, f)
			}
			out = append(out, lessonJSON{l.ID, l.Title, l.Module, l.Summary, l.Minutes, string(app.Status(p, l)), files})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	passed := 0
	module := ""
	for _, l := range a.Course.Lessons {
		if l.Module != module {
			module = l.Module
			fmt.Fprintf(w, "\n%s\n", module)
		}
		st := app.Status(p, l)
		if st == workspace.Passed {
			passed++
		}
		fmt.Fprintf(w, "  %s %-28s %-44s %s\n", statusMark(st), l.ID, l.Title, st.Text())
	}
	fmt.Fprintf(w, "\n%s %d of %d lessons passed\n", bar(passed, len(a.Course.Lessons), 30), passed, len(a.Course.Lessons))
	return nil
}

func statusMark(s workspace.Status) string {
	switch s {
	case workspace.Passed:
		return "✓"
	case workspace.InProgress:
		return "✗"
	}
	return "·"
}

func bar(done, total, width int) string {
	if total == 0 {
		return ""
	}
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

func checkCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	asJSON := fs.Bool("json", false, "print the result as JSON (an array when several lessons are checked)")
	return func(ctx context.Context, e *env, args []string) error {
		a, ls, err := e.openFor(true, args)
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			p, err := a.Progress.Load()
			if err != nil {
				return err
			}
			ls = []*lessons.Lesson{a.Next(p)}
		}
		var results []*checker.Result
		var notSaved []error
		allPass := true
		for _, l := range ls {
			if !*asJSON {
				fmt.Fprintf(e.stdout, "Checking %s …\n", l.ID)
			}
			stopNote := slowNote(e.stderr, *asJSON)
			res, err := a.Check(ctx, l, func(checker.Progress) { stopNote() }) // the build is done
			stopNote()
			if res == nil {
				return err
			}
			results = append(results, res)
			if res.Verdict != checker.Pass {
				allPass = false
			}
			if !*asJSON {
				printResult(e.stdout, l, res)
			}
			if err != nil {
				notSaved = append(notSaved, err)
			}
		}
		// The verdicts first, then why they were not recorded.
		defer func() {
			if len(notSaved) > 0 {
				e.notSaved(notSaved[0])
			}
		}()
		for _, err := range notSaved {
			if !errors.Is(err, workspace.ErrNotSaved) {
				return err
			}
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			var v any = results
			if len(results) == 1 && len(args) <= 1 {
				v = results[0]
			}
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
		for _, r := range results {
			if r.Verdict == checker.Error {
				return &exitError{code: exitProblem, msg: r.Summary}
			}
		}
		if !allPass {
			return errFailed
		}
		return nil
	}
}

// slowNote prints, if a check is still compiling after a few seconds, why
// it is slow; the returned function cancels the note (call it when the
// build ends: the checks themselves may take a minute).
func slowNote(w io.Writer, quiet bool) func() {
	if quiet {
		return func() {}
	}
	t := time.AfterFunc(4*time.Second, func() {
		fmt.Fprintln(w, "(still compiling: the first check compiles the Go standard library, up to a minute once; `tutor init` does it ahead of time)")
	})
	return func() { t.Stop() }
}

// printResult writes a check result for a terminal.
func printResult(w io.Writer, l *lessons.Lesson, r *checker.Result) {
	label := map[checker.Verdict]string{
		checker.Pass: "PASS", checker.Fail: "FAIL", checker.BuildError: "BUILD ERROR",
		checker.Timeout: "TIMEOUT", checker.Error: "ERROR",
	}[r.Verdict]
	fmt.Fprintf(w, "%s  %s  (%.1f s)\n", label, l.ID, float64(r.ElapsedMS)/1000)
	for _, be := range r.BuildErrors {
		if be.File != "" {
			fmt.Fprintf(w, "  %s:%d:%d: %s\n", be.File, be.Line, be.Column, be.Message)
		} else {
			fmt.Fprintf(w, "  %s\n", be.Message)
		}
	}
	for _, c := range r.Checks {
		mark := "✓"
		switch {
		case c.Status == checker.NotRun:
			mark = "–"
		case !c.Passed:
			mark = "✗"
		}
		title := c.Name
		if c.Title != "" {
			title = c.Title
		}
		fmt.Fprintf(w, "  %s %s\n", mark, title)
		if !c.Passed || c.Message != "" {
			fmt.Fprintf(w, "      %s\n", wrap(c.Message, 90, "      "))
		}
	}
	if r.Panic != nil && r.Panic.File != "" {
		fmt.Fprintf(w, "  panic at %s:%d: %s\n", r.Panic.File, r.Panic.Line, r.Panic.Message)
	}
	if r.Verdict == checker.Error {
		fmt.Fprintf(w, "  %s\n", r.Summary)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if out := strings.TrimSpace(r.Output); out != "" {
		fmt.Fprintf(w, "  your output:\n      %s\n", strings.ReplaceAll(out, "\n", "\n      "))
	}
	if r.Verdict != checker.Pass && r.Verdict != checker.Error {
		fmt.Fprintf(w, "  Stuck? `tutor hint %s` shows the next hint.\n", l.Number)
	}
}

// wrap breaks s into lines of at most width runes, indenting continuations.
func wrap(s string, width int, indent string) string {
	words := strings.Fields(s)
	var b strings.Builder
	n := 0
	for _, word := range words {
		if n > 0 && n+1+len([]rune(word)) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len([]rune(word))
	}
	return b.String()
}

func hintCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	all := fs.Bool("all", false, "show every hint")
	return func(ctx context.Context, e *env, args []string) error {
		a, l, err := e.openOne("hint", args)
		if err != nil {
			return err
		}
		shown, err := a.RevealHint(l, *all)
		if err != nil && !errors.Is(err, workspace.ErrNotSaved) {
			return err
		}
		defer e.notSaved(err)
		from := shown - 1
		if *all {
			from = 0
		}
		for i := from; i < shown; i++ {
			h := l.Hints[i]
			fmt.Fprintf(e.stdout, "Hint %d of %d: %s\n\n%s\n\n", i+1, len(l.Hints), h.Title, strings.TrimSpace(string(h.Body)))
		}
		if !*all && shown == len(l.Hints) {
			fmt.Fprintf(e.stdout, "That was the last hint. Still stuck? `tutor solution %s --force` shows the reference solution (recorded as assisted).\n", l.Number)
		}
		return nil
	}
}

func resetCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	undo := fs.Bool("undo", false, "bring back the files saved by the last reset")
	return func(ctx context.Context, e *env, args []string) error {
		a, l, err := e.openOne("reset", args)
		if err != nil {
			return err
		}
		if *undo {
			from, err := a.WS.Undo(l)
			if err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(e.stdout, "Restored %s from %s.\n", l.ID, rel(a.WS.Root, from))
			return nil
		}
		backup, err := a.WS.Reset(l)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Restored the starter files of %s. Your files are saved in %s (undo: `tutor reset --undo %s`).\n", l.ID, rel(a.WS.Root, backup), l.Number)
		return nil
	}
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return filepath.Join(filepath.Base(root), r)
	}
	return p
}

func solutionCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	apply := fs.Bool("apply", false, "write the solution into the workspace (after backing up your files)")
	force := fs.Bool("force", false, "show it before the lesson has passed (recorded as assisted)")
	return func(ctx context.Context, e *env, args []string) error {
		a, l, err := e.openOne("solution", args)
		if err != nil {
			return err
		}
		files, err := a.Solution(l, *force)
		if errors.Is(err, app.ErrNotPassed) {
			return usageErr("%s has not passed yet; the solution unlocks when it does (or use --force, recorded as assisted; `tutor hint %s` first?)", l.ID, l.Number)
		}
		if err != nil && !errors.Is(err, workspace.ErrNotSaved) {
			return err
		}
		defer e.notSaved(err)
		if *apply {
			backup, err := a.WS.Write(l, files)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Wrote the reference solution into %s. Your files are saved in %s (undo: `tutor reset --undo %s`).\n", l.ID, rel(a.WS.Root, backup), l.Number)
			return nil
		}
		for _, name := range l.Files {
			fmt.Fprintf(e.stdout, "// ===== %s (reference solution) =====\n%s\n", workspace.Rel(l, name), files[name])
		}
		return nil
	}
}

func verifyCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	runs := fs.Int("runs", 1, "how many times to run every variant")
	load := fs.Int("load", 0, "keep this many extra CPU-burning processes running meanwhile (a soak test)")
	verbose := fs.Bool("v", false, "print the failing checks' messages of wrong variants")
	report := fs.Bool("report", false, "print each check's measurements (min/median/max) against its bound (default with --runs > 1 or --load)")
	return func(ctx context.Context, e *env, args []string) error {
		if *runs < 1 {
			return usageErr("verify: --runs must be at least 1")
		}
		if *load < 0 || *load > 64 {
			return usageErr("verify: --load must be between 0 and 64")
		}
		c, err := e.load()
		if err != nil {
			return err
		}
		ls, err := lessonsArg(c, args)
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			ls = c.Lessons
		}
		ls = slices.DeleteFunc(slices.Clone(ls), func(l *lessons.Lesson) bool {
			if l.Unix && !checker.ProcessGroups {
				fmt.Fprintf(e.stdout, "Skipping %s: its checks need Linux or macOS.\n", l.ID)
				return true
			}
			return false
		})
		ws := &workspace.Workspace{}
		a, err := app.New(c, ws, e.getenv("TUTOR_GO"))
		if err != nil {
			return err
		}
		if *load > 0 {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			stop, err := app.StartLoad(ctx, *load, func(ctx context.Context) *exec.Cmd {
				return burnerCmd(ctx, self)
			})
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintf(e.stdout, "Verifying with %d CPU-burning processes running on %d CPUs.\n", *load, runtime.NumCPU())
		}
		var stats app.Stats
		passed, failed, err := a.Verify(ctx, ls, *runs, func(o app.Outcome) {
			stats.Add(o)
			app.PrintOutcome(e.stdout, o, *verbose)
		})
		if err != nil {
			return err
		}
		if *report || *runs > 1 || *load > 0 {
			stats.Print(e.stdout)
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
		if failed > 0 {
			return errFailed
		}
		return nil
	}
}

func doctorCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		w := e.stdout
		ok := true
		say := func(good bool, format string, a ...any) {
			mark := "ok  "
			if !good {
				mark = "FIX "
				ok = false
			}
			fmt.Fprintf(w, "%s %s\n", mark, fmt.Sprintf(format, a...))
		}
		// note is a warning that needs no fix: the doctor still exits 0.
		note := func(format string, a ...any) {
			fmt.Fprintf(w, "note %s\n", fmt.Sprintf(format, a...))
		}
		a, err := e.open(false)
		if err != nil {
			say(false, "%v", err)
			return errFailed
		}
		out, err := exec.CommandContext(ctx, a.Runner.Go(), "version").Output()
		if err != nil {
			say(false, "go version failed (%v): install Go 1.26 or later from https://go.dev/dl/", err)
		} else {
			v := strings.TrimSpace(string(out))
			say(goAtLeast(v, "go1.26"), "%s (the tutor needs Go 1.26 or later)", v)
		}
		say(true, "%d CPUs, GOMAXPROCS %d", runtime.NumCPU(), runtime.GOMAXPROCS(0))
		if load, err := loadAvg(); err == nil {
			busy := load > float64(runtime.NumCPU())
			if busy {
				note("load average %.2f on %d CPUs: the machine is busy; the checks allow for that, but close heavy programs if verdicts look odd", load, runtime.NumCPU())
			} else {
				say(true, "load average %.2f on %d CPUs", load, runtime.NumCPU())
			}
		}
		if race, why := a.Runner.RaceSupported(ctx); race {
			say(true, "the race detector works (%s)", raceLessons(a.Course))
		} else {
			say(false, "the race detector does not work here (%s): install a C compiler (gcc) and set CGO_ENABLED=1; lessons still run, judging races by their effects", why)
		}
		if !a.WS.Exists() {
			say(false, "no workspace at %s: run `tutor init`", a.WS.Root)
		} else {
			rep := fmt.Sprintf("workspace %s", a.WS.Root)
			missing := 0
			for _, l := range a.Course.Lessons {
				files, _ := a.WS.Files(l)
				missing += len(l.Files) - len(files)
			}
			if missing > 0 {
				say(false, "%s: %d lesson files are missing; `tutor init` restores missing files without touching yours", rep, missing)
			} else if _, err := a.Progress.Load(); err != nil {
				say(false, "%v", err)
			} else {
				say(true, "%s: all %d lessons present", rep, len(a.Course.Lessons))
			}
			for _, r := range workspace.Requirements() {
				if dir, err := moduleCached(ctx, a.Runner.Go(), a.WS.Root, r.Path); err != nil {
					why := "it is not in the module cache"
					if !strings.Contains(err.Error(), "GOPROXY=off") {
						why = err.Error()
					}
					note("%s %s is not downloaded (%s); %s: run `go mod download %s` in %s once while online, and it builds offline from then on", r.Path, r.Version, why, r.Why, r.Path, a.WS.Root)
				} else {
					say(true, "%s is in the module cache (%s), so a solution that imports it builds offline", r.Path, dir)
				}
			}
			start := time.Now()
			l := a.Course.Lessons[0]
			job := a.Job(a.WS.Root, l, nil)
			job.BuildOnly = true
			res, err := a.Runner.Run(ctx, job)
			d := time.Since(start)
			switch {
			case err != nil:
				return err
			case res.Verdict == checker.BuildError:
				say(true, "build cache: %s does not compile right now (that is the exercise); compile took %.1f s", l.ID, d.Seconds())
			case d > 5*time.Second:
				say(false, "the Go build cache was cold (compiling took %.1f s); it is warm now. `tutor init` warms it for every lesson", d.Seconds())
			default:
				say(true, "the Go build cache is warm (compiling %s's checks took %.1f s)", l.ID, d.Seconds())
			}
		}
		if !ok {
			return errFailed
		}
		return nil
	}
}

// moduleCached returns the directory of the workspace's required module
// path in the module cache, asking the go command without the network; an
// error says why it is not there.
func moduleCached(ctx context.Context, goBin, root, path string) (string, error) {
	cmd := exec.CommandContext(ctx, goBin, "list", "-m", "-f", "{{.Dir}}", path)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			line, _, _ := strings.Cut(strings.TrimSpace(string(exit.Stderr)), "\n")
			return "", errors.New(strings.TrimPrefix(line, "go: "))
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("not in the module cache")
	}
	return dir, nil
}

// goAtLeast reports whether `go version` output names a toolchain of at
// least the language version min ("go1.26"). Development builds
// ("devel go1.27-…") count by the version they name.
func goAtLeast(out, min string) bool {
	for _, f := range strings.Fields(out) {
		if lang := version.Lang(f); lang != "" {
			return version.Compare(lang, min) >= 0
		}
	}
	return false
}

func loadAvg() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	var l float64
	_, err = fmt.Sscanf(string(b), "%f", &l)
	return l, err
}

// raceLessons names the lessons whose checks run with the race detector,
// for doctor's report: "lessons 01, 05 use it".
func raceLessons(c *lessons.Course) string {
	var ns []string
	for _, l := range c.Lessons {
		if l.Race {
			ns = append(ns, l.Number)
		}
	}
	switch len(ns) {
	case 0:
		return "no lesson uses it yet"
	case 1:
		return "lesson " + ns[0] + " uses it"
	}
	return "lessons " + strings.Join(ns, ", ") + " use it"
}
