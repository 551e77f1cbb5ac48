package site

import (
	"cmp"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"math"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/lab"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site/render"
)

// The values of the verdict element's data-verdict attribute.
const (
	verdictIdle     = "idle"
	verdictChecking = "checking"
)

// verdictOf is the one word the page shows for a lesson's state: a
// running check wins over the last result.
func verdictOf(st LessonState) string {
	switch {
	case st.Checking:
		return verdictChecking
	case st.Result == nil:
		return verdictIdle
	}
	return string(st.Result.Verdict)
}

// stateText is the header's words for a lesson's state: the verdict's,
// except that a lesson passed in an earlier run of the tutor, not checked in
// this one, says so rather than "not checked yet" next to its "passed" badge.
func stateText(st LessonState) string {
	v := verdictOf(st)
	if v == verdictIdle && st.Status == Passed {
		return "passed earlier"
	}
	return verdictText(v)
}

// verdictText is the short words for a verdict, as the page's header shows
// them (site.js has the same table).
func verdictText(v string) string {
	switch v {
	case verdictIdle:
		return "not checked yet"
	case verdictChecking:
		return "checking…"
	case string(checker.Pass):
		return "passed"
	case string(checker.Fail):
		return "not yet"
	case string(checker.BuildError):
		return "does not compile"
	case string(checker.Timeout):
		return "timed out"
	case string(checker.Error):
		return "could not run"
	}
	return v
}

// statusOf normalises LessonState.Status.
func statusOf(st LessonState) string {
	switch st.Status {
	case Passed, InProgress:
		return st.Status
	}
	return NotStarted
}

// statusText is the words for a status on the map.
func statusText(st LessonState) string {
	switch {
	case st.Checking:
		return "checking…"
	case statusOf(st) == Passed && st.Assisted:
		return "passed (assisted)"
	case statusOf(st) == Passed:
		return "passed"
	case statusOf(st) == InProgress:
		return "in progress"
	}
	return "not started"
}

// page is what the layout template receives.
type page struct {
	Title    string
	Kind     string // "map", "lesson", "solution", "error"
	LessonID string // for the live-updates script; "" off lesson pages
	Notice   string
	Map      *mapView
	Lesson   *lessonView
	Solution *solutionView
	Error    *errorView
	Lab      *labView // labs.go
	Present  bool     // presenter mode (?present=1): the projector layout
	Panel    *panelView
}

// panelView is a demo's or a fire's answer as a page of its own, for a
// form posted without the page's script.
type panelView struct {
	ID, Number, Heading string
	HTML                template.HTML
}

// summary is one lesson as the map and the pager show it.
type summary struct {
	ID, Number, Title, Summary string
	Minutes                    int
	Status                     string // NotStarted, InProgress, Passed
	StatusText                 string
	Verdict                    string
	Assisted                   bool
}

func (s *Server) summary(p *lessonPage, st LessonState) *summary {
	return &summary{
		ID: p.L.ID, Number: p.L.Number, Title: p.L.Title, Summary: p.L.Summary, Minutes: p.L.Minutes,
		Status: statusOf(st), StatusText: statusText(st), Verdict: verdictOf(st), Assisted: st.Assisted,
	}
}

type mapView struct {
	Workspace string
	Modules   []moduleView
	Passed    int
	Total     int
	Percent   int
	Minutes   int // expected time of the lessons not passed yet
	Continue  *summary
	Labs      []lab.Spec // labs.go
}

type moduleView struct {
	N       int
	Title   string
	Lessons []*summary
}

func (s *Server) mapView(snap Snapshot) *mapView {
	v := &mapView{Workspace: snap.Workspace, Total: len(s.pages), Labs: lab.Specs()}
	for i, m := range s.modules {
		v.Modules = append(v.Modules, moduleView{N: i + 1, Title: m})
	}
	for _, p := range s.pages {
		st := snap.Lessons[p.L.ID]
		sum := s.summary(p, st)
		mv := &v.Modules[p.Module-1]
		mv.Lessons = append(mv.Lessons, sum)
		if sum.Status == Passed {
			v.Passed++
		} else {
			v.Minutes += p.L.Minutes
			if v.Continue == nil {
				v.Continue = sum
			}
		}
	}
	v.Percent = v.Passed * 100 / v.Total
	return v
}

type lessonView struct {
	*lessonPage
	Total       int
	ModuleName  string
	State       LessonState
	Status      string
	StatusText  string
	Verdict     string
	VerdictText string
	Workspace   string
	Files       []fileView
	Editor      bool // an editor command is configured: open through the backend
	Result      *resultView
	HintPanel   *hintsView
	Prev, Next  *summary
	Flash       string
	// Demo runs and the Fire panel, when the backend offers them.
	Demo      bool
	Variants  []variantView
	FireRoute string // the lesson's default route; "" if it has no server
	MaxFire   int
	Class     string // the class server the learner joined, "" if none
}

type fileView struct {
	Name string       // "ping.go"
	Rel  string       // "02-event-loop/ping.go", relative to the workspace
	Abs  string       // absolute path, "" if the workspace is unknown
	Link template.URL // vscode://file/… when no editor command is configured
}

// workspaceFile is where a lesson file lives in the learner's workspace,
// slash-separated and relative to it: the workspace mirrors the lessons
// directory, so it is "<lesson ID>/<file>".
func workspaceFile(id, file string) string { return path.Join(id, file) }

func (s *Server) lessonView(p *lessonPage, snap Snapshot) *lessonView {
	st := snap.Lessons[p.L.ID]
	v := &lessonView{
		lessonPage: p, Total: len(s.pages), ModuleName: p.L.Module,
		State: st, Status: statusOf(st), StatusText: statusText(st), Verdict: verdictOf(st),
		VerdictText: stateText(st), Workspace: snap.Workspace, Editor: s.cfg.Editor != "",
		Result:    s.resultView(p, st, snap.Workspace),
		HintPanel: hintsOf(p, st),
	}
	for _, f := range p.L.Files {
		fv := fileView{Name: f, Rel: workspaceFile(p.L.ID, f)}
		if filepath.IsAbs(snap.Workspace) {
			fv.Abs = filepath.Join(snap.Workspace, filepath.FromSlash(fv.Rel))
			u := url.URL{Scheme: "vscode", Host: "file", Path: filepath.ToSlash(fv.Abs)}
			fv.Link = template.URL(u.String())
		}
		v.Files = append(v.Files, fv)
	}
	if pr := s.presenter(); pr != nil {
		v.Demo, v.Variants, v.MaxFire = true, variantsOf(p), MaxFire
		v.FireRoute = pr.FireRoute(p.L.ID)
	}
	if p.Index > 0 {
		q := s.pages[p.Index-1]
		v.Prev = s.summary(q, snap.Lessons[q.L.ID])
	}
	if p.Index+1 < len(s.pages) {
		q := s.pages[p.Index+1]
		v.Next = s.summary(q, snap.Lessons[q.L.ID])
	}
	return v
}

type hintsView struct {
	ID     string
	Shown  []hintView
	Total  int
	Next   int // number of the next hint, 0 if all are shown
	Passed bool
}

// Key changes whenever the hints panel would look different; a page
// re-renders its panel from a live event only when the key differs.
func (v *hintsView) Key() string { return fmt.Sprintf("%d/%t", len(v.Shown), v.Passed) }

func hintsOf(p *lessonPage, st LessonState) *hintsView {
	n := min(max(st.HintsShown, 0), len(p.Hints))
	v := &hintsView{ID: p.L.ID, Shown: p.Hints[:n], Total: len(p.Hints), Passed: statusOf(st) == Passed}
	if n < len(p.Hints) {
		v.Next = n + 1
	}
	return v
}

// resultView is the result panel: the verdict, each check with its numbers,
// compile errors with the offending lines, the timeline and the output.
type resultView struct {
	Lesson   string
	Verdict  string
	Checking bool
	Fresh    bool // the checks shown belong to the run in progress, not the last result
	Headline string
	Detail   string // one sentence under the headline
	Summary  string // the checker's one-line summary, when it adds to Detail
	R        *checker.Result
	Checks   []checkView
	Failed   int
	// Objectives is the table of a lesson whose front matter asks for
	// "report: objectives": one row per check, read as a service-level
	// objective. Empty for other lessons.
	Objectives []objectiveView
	Sources    []sourceView // compile errors, the panic's location
	Timeline   template.HTML
	Elapsed    string
	Output     string
	Lines      int // lines of output
	// Next is the lesson after this one, shown in the verdict once it
	// passes, so the next step is in view where the learner is looking.
	Next *summary
}

type checkView struct {
	Name, Title, Message string
	Outcome              string // "pass", "fail", "skip"
	Remeasured           bool
	Measures             []measureView
	// Timeline is this check's own chart, folded away under the check;
	// empty for the check whose chart the panel shows below the list.
	Timeline template.HTML
}

// objectiveView is one row of the objectives table: a check as an
// objective, its target and what was measured, from the check's first
// failing measure (or its first measure when none failed).
type objectiveView struct {
	Name     string // the check's name, e.g. "QuoteLatency"
	What     string // what the shown measure measures
	Target   string // "at most 400 ms", or "–" for a check without measures
	Measured string
	Met      bool
}

// objectivesOf turns checks into the rows of the objectives table. A check
// is met when it passed, whatever its shown measure says: a check can fail
// on a wrong answer while its time was fine.
func objectivesOf(checks []checker.Check) []objectiveView {
	var out []objectiveView
	for _, c := range checks {
		o := objectiveView{Name: c.Name, Target: "–", Measured: "–", Met: c.Passed && !c.Skipped && c.Status != checker.NotRun}
		if len(c.Measures) > 0 {
			i := max(0, slices.IndexFunc(c.Measures, func(m checker.Measure) bool { return !m.Passed }))
			m := c.Measures[i]
			unit := m.Unit
			if unit == "count" { // a count reads as a plain number: "at most 3"
				unit = ""
			}
			o.What, o.Target, o.Measured = m.What, measureOf(m).Rule+" "+number(m.Bound, unit), number(m.Value, unit)
		}
		out = append(out, o)
	}
	return out
}

type measureView struct {
	What, Value, Bound, Rule, Samples string
	Passed                            bool
}

// sourceView is an excerpt of one learner file around the lines an error
// points at.
type sourceView struct {
	File     string // relative to the workspace
	Messages []string
	Excerpts []template.HTML
	Missing  string // why the source cannot be shown
}

// nextLesson is the lesson after p, nil after the last one.
func (s *Server) nextLesson(p *lessonPage) *summary {
	if p.Index+1 >= len(s.pages) {
		return nil
	}
	q := s.pages[p.Index+1]
	return &summary{ID: q.L.ID, Number: q.L.Number, Title: q.L.Title}
}

func (s *Server) resultView(p *lessonPage, st LessonState, workspace string) *resultView {
	if st.Checking && st.Progress != nil && len(st.Progress.Done) > 0 {
		return progressView(p, st)
	}
	v := &resultView{Lesson: p.L.ID, Verdict: verdictOf(st), Checking: st.Checking, R: st.Result}
	r := st.Result
	if r == nil {
		if st.Checking {
			v.Headline = "Checking…"
			v.Detail = "Running the hidden checks on your files."
		} else if st.Status == Passed {
			// Passed in an earlier run of the tutor: the result itself
			// is not kept, the fact is (the course map's badge says so).
			v.Headline = "Passed earlier"
			v.Detail = "You passed this lesson before. Save your file or press Check now to run the checks again."
			v.Next = s.nextLesson(p)
		} else {
			v.Headline = "Not checked yet"
			v.Detail = "Save your file in your editor and the checks run by themselves, or press Check now."
		}
		return v
	}
	v.Checks, v.Failed = checkViews(r.Checks)
	if p.L.Report == lessons.ReportObjectives {
		v.Objectives = objectivesOf(r.Checks)
	}
	switch r.Verdict {
	case checker.Pass:
		v.Headline = "Passed"
		v.Detail = fmt.Sprintf("All %d checks pass.", len(r.Checks))
		if len(r.Checks) == 1 {
			v.Detail = "The check passes."
		}
		if !st.Checking {
			v.Next = s.nextLesson(p)
		}
	case checker.Fail:
		v.Headline = "Not yet"
		switch {
		case r.Panic != nil:
			v.Detail = "Your code panicked during a check."
		case len(r.Checks) > 0:
			v.Detail = fmt.Sprintf("%d of %d checks failed.", v.Failed, len(r.Checks))
		}
	case checker.BuildError:
		v.Headline = "Does not compile"
		v.Detail = "Fix the compile errors below, save, and the checks run again."
	case checker.Timeout:
		v.Headline = "Timed out"
		v.Detail = "The checks did not finish in time."
		if r.Running != "" {
			v.Detail = fmt.Sprintf("The checks did not finish in time; %s was running.", r.Running)
		}
	case checker.Error:
		v.Headline = "The checks could not run"
	default:
		v.Headline = string(r.Verdict)
	}
	v.Summary = r.Summary
	if r.Summary != "" && (r.Verdict == checker.Pass || (r.Verdict == checker.Fail && r.Panic == nil)) {
		v.Detail, v.Summary = r.Summary, ""
	}
	if st.Checking {
		v.Headline = "Checking…"
		v.Detail = "Running the hidden checks again; the last result is below."
	}
	v.Sources = s.sources(workspace, r)
	var perCheck []template.HTML
	v.Timeline, perCheck = s.charts.of(p.L.ID, r)
	for i := range min(len(v.Checks), len(perCheck)) {
		v.Checks[i].Timeline = perCheck[i]
	}
	v.Elapsed = elapsed(r)
	v.Output = r.Output
	if r.Output != "" {
		v.Lines = strings.Count(strings.TrimSuffix(r.Output, "\n"), "\n") + 1
	}
	return v
}

// progressView is the result panel while a check runs and some of its
// checks have ended: those, with their numbers, as soon as they are known.
func progressView(p *lessonPage, st LessonState) *resultView {
	done := st.Progress.Done
	v := &resultView{Lesson: p.L.ID, Verdict: verdictOf(st), Checking: true, Fresh: true, Headline: "Checking…",
		R: &checker.Result{Checks: done}}
	v.Checks, v.Failed = checkViews(done)
	if p.L.Report == lessons.ReportObjectives {
		v.Objectives = objectivesOf(done)
	}
	n := fmt.Sprintf("%d checks done", len(done))
	if len(done) == 1 {
		n = "1 check done"
	}
	if v.Failed > 0 {
		n += fmt.Sprintf(", %d failed", v.Failed)
	}
	if st.Progress.Running != "" {
		v.Detail = fmt.Sprintf("%s; running %s…", n, st.Progress.Running)
	} else {
		v.Detail = n + "; finishing…"
	}
	pick := slices.IndexFunc(done, func(c checker.Check) bool { return !c.Passed && len(c.Timeline) > 0 })
	if pick < 0 {
		pick = slices.IndexFunc(done, func(c checker.Check) bool { return len(c.Timeline) > 0 })
	}
	shown := ""
	if pick >= 0 {
		shown = done[pick].Name
		v.Timeline = render.Timeline(done[pick].Timeline, render.TimelineOptions{Title: chartTitle(done[pick]), Width: timelineWidth})
	}
	for i, chart := range checkCharts(done, shown) {
		v.Checks[i].Timeline = chart
	}
	return v
}

// chartTitle names a check's chart in the learner's words: the check's
// title as the list shows it, not its internal name.
func chartTitle(c checker.Check) string {
	return "Timeline: " + cmp.Or(c.Title, c.Name)
}

// checkCharts draws every check's own chart, except the check named
// shown, whose chart is already under the list: a learner can open, say,
// Stock's timeline while the panel shows Responsive's. The result has one
// entry per check, empty where there is no chart.
func checkCharts(checks []checker.Check, shown string) []template.HTML {
	out := make([]template.HTML, len(checks))
	for i, c := range checks {
		if c.Name != shown && len(c.Timeline) > 0 {
			out[i] = render.Timeline(c.Timeline, render.TimelineOptions{Title: chartTitle(c), Width: timelineWidth})
		}
	}
	return out
}

// chartCache keeps the charts of each lesson's newest result. A result is
// never changed once published, and drawing six charts of 120 spans or
// more takes milliseconds, far longer than the rest of the page, which
// every request and every live update would otherwise pay again.
type chartCache struct {
	mu     sync.Mutex
	lesson map[string]chartEntry // by lesson ID: only the newest result
}

type chartEntry struct {
	r        *checker.Result
	main     template.HTML   // the chart under the list
	perCheck []template.HTML // one per check, empty where none
}

// of returns r's charts, drawing them if r is not the newest result seen
// for lesson.
func (c *chartCache) of(lesson string, r *checker.Result) (template.HTML, []template.HTML) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.lesson[lesson]; ok && e.r == r {
		return e.main, e.perCheck
	}
	e := chartEntry{r: r, perCheck: checkCharts(r.Checks, r.TimelineCheck)}
	if len(r.Timeline) > 0 {
		title := "Timeline"
		if i := slices.IndexFunc(r.Checks, func(c checker.Check) bool { return c.Name == r.TimelineCheck }); i >= 0 {
			title = chartTitle(r.Checks[i])
		} else if r.TimelineCheck != "" {
			title = "Timeline: " + r.TimelineCheck
		}
		e.main = render.Timeline(r.Timeline, render.TimelineOptions{Title: title, Width: timelineWidth})
	}
	if c.lesson == nil {
		c.lesson = map[string]chartEntry{}
	}
	c.lesson[lesson] = e
	return e.main, e.perCheck
}

// checkViews turns checks into the panel's list, and counts the failed ones.
func checkViews(checks []checker.Check) (views []checkView, failed int) {
	for _, c := range checks {
		cv := checkView{Name: c.Name, Title: cmp.Or(c.Title, c.Name), Message: c.Message, Remeasured: c.Remeasured, Outcome: "pass"}
		switch {
		case c.Skipped:
			cv.Outcome = "skip"
		case c.Status == checker.NotRun:
			cv.Outcome = "not-run" // never started: its message says why
			failed++
		case !c.Passed:
			cv.Outcome = "fail"
			failed++
		}
		for _, m := range c.Measures {
			cv.Measures = append(cv.Measures, measureOf(m))
		}
		views = append(views, cv)
	}
	return views, failed
}

func elapsed(r *checker.Result) string {
	if r.ElapsedMS <= 0 {
		return ""
	}
	s := seconds(r.ElapsedMS)
	if b, ok := r.Phases["build"]; ok {
		s += " (build " + seconds(b)
		if run, ok := r.Phases["run"]; ok {
			s += ", run " + seconds(run)
		}
		s += ")"
	}
	return s
}

func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 2, 64) + " s"
}

func measureOf(m checker.Measure) measureView {
	mv := measureView{What: m.What, Value: number(m.Value, m.Unit), Bound: number(m.Bound, m.Unit), Passed: m.Passed}
	switch m.Rule {
	case "max":
		mv.Rule = "at most"
	case "min":
		mv.Rule = "at least"
	default:
		mv.Rule = m.Rule
	}
	if len(m.Samples) > 1 {
		parts := make([]string, len(m.Samples))
		for i, x := range m.Samples {
			parts[i] = number(x, "")
		}
		mv.Samples = strings.Join(parts, ", ")
	}
	return mv
}

// number formats a measured value with about three significant digits.
func number(x float64, unit string) string {
	var s string
	switch a := math.Abs(x); {
	case a == math.Trunc(a) && a < 1e9:
		s = strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 100:
		s = strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(x, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(x, 'f', 2, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

// timelineWidth is the timeline's drawing width in px: about the side
// panel's width, so its text is drawn at the size it is read (the SVG
// shrinks to fit a narrower panel but does not grow).
const timelineWidth = 540

// maxSource is the largest learner file the panel will read.
const maxSource = 1 << 20

// sources reads the learner's files that compile errors (or a panic) point
// at, through an os.Root at the workspace so no path can lead outside it,
// and renders the lines around each error.
func (s *Server) sources(workspace string, r *checker.Result) []sourceView {
	type loc struct {
		line int
		msg  string
	}
	byFile := map[string][]loc{}
	var order []string
	add := func(file string, line int, msg string) {
		if file == "" {
			return
		}
		if _, ok := byFile[file]; !ok {
			order = append(order, file)
		}
		byFile[file] = append(byFile[file], loc{line, msg})
	}
	for _, e := range r.BuildErrors {
		msg := e.Message
		if e.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", e.Line, e.Message)
		}
		add(e.File, e.Line, msg)
	}
	if p := r.Panic; p != nil && p.File != "" {
		add(p.File, p.Line, fmt.Sprintf("line %d: panic: %s", p.Line, p.Message))
	}
	if len(order) == 0 {
		return nil
	}
	var root *os.Root
	var rootErr error
	if filepath.IsAbs(workspace) {
		root, rootErr = os.OpenRoot(workspace)
	} else {
		rootErr = fmt.Errorf("workspace %q is not an absolute path", workspace)
	}
	if root != nil {
		defer root.Close()
	}
	var out []sourceView
	for _, file := range order {
		locs := byFile[file]
		sv := sourceView{File: file}
		var lines []int
		for _, l := range locs {
			sv.Messages = append(sv.Messages, l.msg)
			if l.line > 0 {
				lines = append(lines, l.line)
			}
		}
		src, err := readLearnerFile(root, rootErr, file)
		switch {
		case err != nil:
			sv.Missing = err.Error()
		case len(lines) > 0:
			for _, g := range groupLines(lines, 3) {
				sv.Excerpts = append(sv.Excerpts, render.Code(src, g[0], g[1], lines))
			}
		}
		out = append(out, sv)
	}
	return out
}

func readLearnerFile(root *os.Root, rootErr error, file string) ([]byte, error) {
	if rootErr != nil {
		return nil, fmt.Errorf("cannot show %s: %w", file, rootErr)
	}
	name := filepath.FromSlash(file)
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("cannot show %s: not inside the workspace", file)
	}
	fi, err := root.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("cannot show %s: %w", file, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxSource {
		return nil, fmt.Errorf("cannot show %s: not a regular file under 1 MB", file)
	}
	b, err := root.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot show %s: %w", file, unwrapPath(err))
	}
	return b, nil
}

// unwrapPath drops the path from a *fs.PathError, whose message would
// repeat the file name.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// groupLines merges the lines into excerpts [from, to] with ctx lines of
// context, joining excerpts that would touch.
func groupLines(lines []int, ctx int) [][2]int {
	ls := slices.Clone(lines)
	slices.Sort(ls)
	ls = slices.Compact(ls)
	var out [][2]int
	for _, l := range ls {
		from, to := max(l-ctx, 1), l+ctx
		if n := len(out); n > 0 && from <= out[n-1][1]+1 {
			out[n-1][1] = to
			continue
		}
		out = append(out, [2]int{from, to})
	}
	return out
}

// solutionView shows the reference files.
type solutionView struct {
	ID, Number, Title string
	Files             []solutionFile
}

type solutionFile struct {
	Name string
	Code template.HTML
}

func solutionOf(p *lessonPage, files map[string][]byte) *solutionView {
	v := &solutionView{ID: p.L.ID, Number: p.L.Number, Title: p.L.Title}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		src := files[n]
		lines := strings.Count(string(src), "\n")
		if len(src) > 0 && src[len(src)-1] != '\n' {
			lines++
		}
		v.Files = append(v.Files, solutionFile{Name: n, Code: render.Code(src, 1, max(lines, 1), nil)})
	}
	return v
}

type errorView struct {
	Code    int
	Title   string
	Message string
}
