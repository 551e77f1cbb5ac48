package class

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
)

//go:embed web
var webFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ago": func(t time.Time) string { return t.Format("15:04:05") },
}).ParseFS(webFS, "web/*.html"))

// Cell is one learner × lesson square of the grid.
type Cell struct {
	Lesson string `json:"lesson"`
	Class  string `json:"class"` // passed, failing, progress, none
	Text   string `json:"text"`  // what it says, not only its colour
	Detail string `json:"detail,omitempty"`
}

// Row is one learner's line of the grid.
type Row struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Seq   int64  `json:"seq"` // the newest update kept
	Cells []Cell `json:"cells"`
}

// Summary is one lesson's line under the grid.
type Summary struct {
	Lesson string `json:"lesson"`
	Title  string `json:"title"`
	Text   string `json:"text"` // "7 of 20 fail Responsive: 180–900 ms"
}

// HelpEntry is one help request in the queue.
type HelpEntry struct {
	N      int    `json:"n"`
	Name   string `json:"name"`
	Lesson string `json:"lesson"`
	At     string `json:"at"`
	Done   bool   `json:"done"`
}

// State is the whole dashboard at one moment (GET /api/state, and the page).
type State struct {
	Lessons   []Lesson    `json:"lessons"`
	Learners  []Row       `json:"learners"`
	Summaries []Summary   `json:"summaries"`
	Help      []HelpEntry `json:"help"`
}

// rowOf builds a learner's row; s.mu is held.
func (s *Server) rowOf(l *learner) Row {
	r := Row{ID: l.id, Name: l.name, Seq: l.lastSeq}
	for _, ls := range s.cfg.Lessons {
		r.Cells = append(r.Cells, cellOf(ls.ID, l.lessons[ls.ID]))
	}
	return r
}

func cellOf(lesson string, u *Update) Cell {
	c := Cell{Lesson: lesson, Class: "none", Text: "–"}
	if u == nil {
		return c
	}
	tries := plural(u.Attempts, "try", "tries")
	switch {
	case u.Status == "passed" && (u.Verdict == "pass" || u.Verdict == ""):
		c.Class, c.Text = "passed", "✓ passed"
	case u.Verdict == "":
		c.Class, c.Text = "progress", "… started"
	case u.Verdict == "pass":
		c.Class, c.Text = "passed", "✓ passed"
	default:
		c.Class, c.Text = "failing", "✗ "+u.Verdict
		if u.Status == "passed" {
			c.Text += " (passed before)"
		}
	}
	var d []string
	d = append(d, tries, plural(u.HintsUsed, "hint", "hints"), durationText(u.TimeOnLessonS))
	for _, f := range u.Failing {
		d = append(d, f.Label()+measuresText(f))
	}
	c.Detail = strings.Join(d, " · ")
	return c
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func durationText(s int64) string {
	if s < 60 {
		return strconv.FormatInt(s, 10) + " s"
	}
	return strconv.FormatInt(s/60, 10) + " min"
}

// measuresText is a failing check's telling number with its bound:
// ": 1063 ms (at most 300)".
func measuresText(f FailingCheck) string {
	m, ok := f.Telling()
	if !ok {
		return ""
	}
	s := ": " + formatNumber(m.Value) + unitText(m.Unit)
	switch m.Rule {
	case "max":
		s += " (at most " + formatNumber(m.Bound) + ")"
	case "min":
		s += " (at least " + formatNumber(m.Bound) + ")"
	}
	return s
}

func unitText(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

// summaryOf is a lesson's line: among the learners with a result, how many
// fail the check that fails most, and the range of its first measure.
// s.mu is held.
func (s *Server) summaryOf(ls Lesson) Summary {
	sum := Summary{Lesson: ls.ID, Title: ls.Title}
	tried, failing := 0, 0
	type agg struct {
		label  string
		count  int
		lo, hi float64
		unit   string
		has    bool
		first  int // order of first appearance, for a stable tie-break
	}
	by := map[string]*agg{}
	for _, l := range s.order {
		u := l.lessons[ls.ID]
		if u == nil || u.Verdict == "" {
			continue
		}
		tried++
		if u.Verdict == "pass" {
			continue
		}
		failing++
		for _, f := range u.Failing {
			a := by[f.Name]
			if a == nil {
				a = &agg{label: f.Label(), first: len(by)}
				by[f.Name] = a
			}
			a.count++
			if m, ok := f.Telling(); ok {
				v := m.Value
				if !a.has {
					a.lo, a.hi, a.unit, a.has = v, v, m.Unit, true
				}
				a.lo, a.hi = min(a.lo, v), max(a.hi, v)
			}
		}
	}
	switch {
	case tried == 0:
		sum.Text = "no results yet"
		return sum
	case failing == 0:
		sum.Text = fmt.Sprintf("%d of %d pass", tried, tried)
		return sum
	}
	var top *agg
	for _, a := range by {
		if top == nil || a.count > top.count || (a.count == top.count && a.first < top.first) {
			top = a
		}
	}
	if top == nil {
		sum.Text = fmt.Sprintf("%d of %d fail (%s)", failing, tried, "no check named: a build error or a timeout")
		return sum
	}
	sum.Text = fmt.Sprintf("%d of %d fail %s", top.count, tried, top.label)
	if top.has {
		if formatNumber(top.lo) == formatNumber(top.hi) {
			sum.Text += ": " + formatNumber(top.lo) + unitText(top.unit)
		} else {
			sum.Text += ": " + formatNumber(top.lo) + "–" + formatNumber(top.hi) + unitText(top.unit)
		}
	}
	return sum
}

func (s *Server) helpEntries() []HelpEntry {
	var out []HelpEntry
	for _, h := range s.help {
		out = append(out, HelpEntry{N: h.N, Name: h.Name, Lesson: h.Update.Lesson, At: h.Update.At.Local().Format("15:04:05"), Done: h.Done})
	}
	return out
}

// Snapshot returns the whole dashboard state.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Lessons: s.cfg.Lessons, Help: s.helpEntries()}
	for _, l := range s.order {
		st.Learners = append(st.Learners, s.rowOf(l))
	}
	for _, ls := range s.cfg.Lessons {
		st.Summaries = append(st.Summaries, s.summaryOf(ls))
	}
	return st
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.Snapshot()) }

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "dashboard.html", s.Snapshot()); err != nil {
		refuse(w, http.StatusInternalServerError, "could not render the dashboard: "+oneLine(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// handleCSV exports one line per learner and lesson with a result.
func (s *Server) handleCSV(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="class-results.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"learner", "lesson", "status", "verdict", "attempts", "hints_used", "time_on_lesson_s", "failing_checks", "measured", "updated_at"})
	s.mu.Lock()
	var rows [][]string
	for _, l := range s.order {
		for _, ls := range s.cfg.Lessons {
			u := l.lessons[ls.ID]
			if u == nil {
				continue
			}
			var names, nums []string
			for _, f := range u.Failing {
				names = append(names, f.Name)
				for _, m := range f.Measures {
					nums = append(nums, f.Name+" "+m.What+"="+formatNumber(m.Value)+unitText(m.Unit))
				}
			}
			rows = append(rows, []string{csvSafe(l.name), ls.ID, u.Status, u.Verdict, strconv.Itoa(u.Attempts), strconv.Itoa(u.HintsUsed),
				strconv.FormatInt(u.TimeOnLessonS, 10), csvSafe(strings.Join(names, "; ")), csvSafe(strings.Join(nums, "; ")), u.At.UTC().Format(time.RFC3339)})
		}
	}
	s.mu.Unlock()
	cw.WriteAll(rows)
}

// csvSafe keeps a spreadsheet from reading a learner's text as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// helpView is the page of one help request.
type helpView struct {
	HelpEntry
	Update  Update
	Failing []string
	Files   []helpFile
	Checks  []HelpCheck
	Summary string
}

type helpFile struct {
	Name string
	Code template.HTML // chroma's output: the learner's code, escaped
}

func (s *Server) helpItem(r *http.Request) *helpItem {
	n, err := strconv.Atoi(r.PathValue("n"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || n < 1 || n > len(s.help) {
		return nil
	}
	return s.help[n-1]
}

func (s *Server) handleHelp(w http.ResponseWriter, r *http.Request) {
	h := s.helpItem(r)
	if h == nil {
		refuse(w, http.StatusNotFound, "no such help request")
		return
	}
	s.mu.Lock()
	v := helpView{HelpEntry: HelpEntry{N: h.N, Name: h.Name, Lesson: h.Update.Lesson, At: h.Update.At.Local().Format("15:04:05"), Done: h.Done}, Update: h.Update}
	s.mu.Unlock()
	if hp := h.Update.Help; hp != nil {
		v.Summary, v.Checks = hp.Summary, hp.Checks
		names := make([]string, 0, len(hp.Files))
		for n := range hp.Files {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			v.Files = append(v.Files, helpFile{Name: n, Code: highlight(n, hp.Files[n])})
		}
	}
	for _, f := range h.Update.Failing {
		v.Failing = append(v.Failing, f.Label()+measuresText(f))
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "help.html", v); err != nil {
		refuse(w, http.StatusInternalServerError, "could not render the help request: "+oneLine(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (s *Server) handleHelpDone(w http.ResponseWriter, r *http.Request) {
	h := s.helpItem(r)
	if h == nil {
		refuse(w, http.StatusNotFound, "no such help request")
		return
	}
	rec := record{T: "done", N: h.N, At: time.Now().UTC()}
	if !s.persist(w, r, rec) {
		return
	}
	s.mu.Lock()
	s.apply(rec)
	s.mu.Unlock()
	s.publishHelp()
	http.Redirect(w, r, "/#help", http.StatusSeeOther)
}

var chromaFormatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithLineNumbers(true))

// highlight renders a learner's file with chroma (classes, no inline
// styles); anything chroma cannot lex is shown escaped.
func highlight(name, code string) template.HTML {
	lx := lexers.Match(name)
	if lx == nil {
		lx = lexers.Fallback
	}
	lx = chroma.Coalesce(lx)
	it, err := lx.Tokenise(nil, code)
	var b bytes.Buffer
	if err == nil {
		err = chromaFormatter.Format(&b, styles.Get("github"), it)
	}
	if err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(code) + "</pre>")
	}
	return template.HTML(b.String())
}

var chromaCSS = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	chromaFormatter.WriteCSS(&b, styles.Get("github"))
	return b.Bytes()
})

func staticHandler() http.Handler {
	sub, _ := fs.Sub(webFS, "web/static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "chroma.css" {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Write(chromaCSS())
			return
		}
		files.ServeHTTP(w, r)
	})
}

// subscriber is one dashboard's event stream. Events are queued, never
// dropped one by one: a stream that falls 4096 events behind is closed, and
// the page reconnects and loads the whole state again.
type subscriber struct {
	ch   chan []byte
	gone chan struct{}
	once sync.Once
}

func (sub *subscriber) drop() { sub.once.Do(func() { close(sub.gone) }) }

func (s *Server) publish(event string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	msg := []byte("event: " + event + "\ndata: " + string(data) + "\n\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- msg:
		default:
			sub.drop()
			delete(s.subs, sub)
		}
	}
}

func (s *Server) publishLearner(l *learner) {
	s.mu.Lock()
	row := s.rowOf(l)
	s.mu.Unlock()
	s.publish("learner", row)
}

func (s *Server) publishLesson(id string) {
	i := slices.IndexFunc(s.cfg.Lessons, func(l Lesson) bool { return l.ID == id })
	if i < 0 {
		return
	}
	s.mu.Lock()
	sum := s.summaryOf(s.cfg.Lessons[i])
	s.mu.Unlock()
	s.publish("summary", sum)
}

func (s *Server) publishHelp() {
	s.mu.Lock()
	h := s.helpEntries()
	s.mu.Unlock()
	if h == nil {
		h = []HelpEntry{}
	}
	s.publish("help", h)
}

// handleEvents streams the dashboard's changes: "learner" (a row),
// "summary" (a lesson's line) and "help" (the queue). It lives as long as
// the page, so it lifts the server's write deadline.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	sub := &subscriber{ch: make(chan []byte, 4096), gone: make(chan struct{})}
	s.mu.Lock()
	if len(s.subs) >= s.lim.MaxSubscribers {
		s.mu.Unlock()
		refuse(w, http.StatusTooManyRequests, "too many dashboards open")
		return
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	rc.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			return
		case msg := <-sub.ch:
			w.Write(msg)
			// Write whatever else is waiting before one flush.
			for n := len(sub.ch); n > 0; n-- {
				w.Write(<-sub.ch)
			}
			if rc.Flush() != nil {
				return
			}
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			if rc.Flush() != nil {
				return
			}
		}
	}
}
