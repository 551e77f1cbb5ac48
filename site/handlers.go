package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// pageFiles are the page templates; each is parsed with the layout and the
// fragments. "fragments" alone renders the pieces sent over SSE and JSON.
var pageFiles = []string{"map", "lesson", "solution", "error", "lab", "panel"}

// parseTemplates parses templates/ from fsys.
func parseTemplates(fsys fs.FS) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
	out := map[string]*template.Template{}
	frag, err := template.New("fragments.html").Funcs(funcs).ParseFS(fsys, "templates/fragments.html")
	if err != nil {
		return nil, fmt.Errorf("site: parse templates: %w", err)
	}
	out["fragments"] = frag
	for _, name := range pageFiles {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys,
			"templates/layout.html", "templates/fragments.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("site: parse templates: %w", err)
		}
		out[name] = t
	}
	return out, nil
}

// template returns the named template set, parsed from disk in dev mode.
func (s *Server) template(name string) (*template.Template, error) {
	if s.templates != nil {
		return s.templates[name], nil
	}
	ts, err := parseTemplates(s.assets)
	if err != nil {
		return nil, err
	}
	return ts[name], nil
}

// execute renders a template to a string; the whole output or an error.
func (s *Server) execute(set, name string, data any) (string, error) {
	t, err := s.template(set)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("site: render %s: %w", name, err)
	}
	return b.String(), nil
}

// writePage renders a full page.
func (s *Server) writePage(w http.ResponseWriter, code int, kind string, p *page) {
	p.Kind = kind
	html, err := s.execute(kind, "layout", p)
	if err != nil {
		log.Print(err)
		refuse(w, http.StatusInternalServerError, "tutor: the page could not be drawn: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	fmt.Fprint(w, html)
}

func (s *Server) writeError(w http.ResponseWriter, code int, title, msg string) {
	s.writePage(w, code, "error", &page{Title: title, Error: &errorView{Code: code, Title: title, Message: msg}})
}

func (s *Server) handleMap(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Backend.Snapshot()
	s.writePage(w, http.StatusOK, "map", &page{Title: "Course map", Notice: snap.Notice, Map: s.mapView(snap)})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, http.StatusNotFound, "Not found", "There is no page at "+r.URL.Path+".")
}

// flashes are the messages a page shows after a form posted without
// JavaScript redirects back to it (?done=…); fixed text, nothing reflected.
var flashes = map[string]string{
	"check": "A check of your files is queued.",
	"hint":  "",
	"reset": "Your files were backed up and the starter restored. Undo (under Start over) puts them back.",
	"undo":  "Your files were restored from the last backup.",
	"open":  "Asked your editor to open the file.",
	"help":  "Your files and your last result are on their way to the instructor's help queue.",
}

func (s *Server) handleLesson(w http.ResponseWriter, r *http.Request) {
	p, err := s.lesson(r.PathValue("id"))
	if err != nil {
		s.writeError(w, http.StatusNotFound, "No such lesson", err.Error())
		return
	}
	if r.PathValue("id") != p.L.ID {
		u := "/lesson/" + p.L.ID
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	snap := s.cfg.Backend.Snapshot()
	v := s.lessonView(p, snap)
	v.Flash = flashes[r.URL.Query().Get("done")]
	v.Class = s.classOf()
	title := p.L.Number + " · " + p.L.Title
	s.writePage(w, http.StatusOK, "lesson", &page{Title: title, LessonID: p.L.ID, Notice: snap.Notice, Lesson: v, Present: r.URL.Query().Get("present") == "1"})
}

// reply is the JSON answer to a POST made by the page's script.
type reply struct {
	OK       bool   `json:"ok"`
	Message  string `json:"message,omitempty"`
	Hints    string `json:"hints,omitempty"`    // the hints section, re-rendered
	Solution string `json:"solution,omitempty"` // the solution fragment
	Demo     string `json:"demo,omitempty"`     // the demo panel's before/after charts
	Fire     string `json:"fire,omitempty"`     // the Fire panel's chart
}

// wantsJSON reports whether the request came from the page's script, which
// asks for JSON; a plain form post gets a redirect or a page instead.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"ok":false,"message":"encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

// apiLesson resolves the lesson of an API request, answering 404 itself.
func (s *Server) apiLesson(w http.ResponseWriter, r *http.Request) *lessonPage {
	p, err := s.lesson(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return nil
	}
	return p
}

// fail answers a failed action: JSON for the script, a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if wantsJSON(r) {
		writeJSON(w, code, reply{Message: err.Error()})
		return
	}
	s.writeError(w, code, "That did not work", err.Error())
}

// done answers a successful action: JSON for the script, otherwise a
// redirect back to the lesson (post/redirect/get).
func (s *Server) done(w http.ResponseWriter, r *http.Request, p *lessonPage, what string, rep reply) {
	if wantsJSON(r) {
		rep.OK = true
		writeJSON(w, http.StatusOK, rep)
		return
	}
	u := "/lesson/" + p.L.ID + "?done=" + what
	if what == "hint" {
		u += "#hints"
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	if err := s.cfg.Backend.CheckNow(p.L.ID); err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("check %s: %w", p.L.ID, err))
		return
	}
	// The result panel shows the check running; no message needed.
	s.done(w, r, p, "check", reply{})
}

func (s *Server) handleHint(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	shown, err := s.cfg.Backend.RevealHint(p.L.ID)
	if err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("hint for %s: %w", p.L.ID, err))
		return
	}
	st := s.cfg.Backend.Snapshot().Lessons[p.L.ID]
	st.HintsShown = max(st.HintsShown, shown)
	html, err := s.execute("fragments", "hints", hintsOf(p, st))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.done(w, r, p, "hint", reply{Hints: html})
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	dir, err := s.cfg.Backend.Reset(p.L.ID)
	if err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("reset %s: %w", p.L.ID, err))
		return
	}
	msg := "The starter files are back."
	if dir != "" {
		msg += " Your version is saved in " + dir + "."
	}
	s.done(w, r, p, "reset", reply{Message: msg + " Undo puts it back."})
}

func (s *Server) handleUndo(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	if err := s.cfg.Backend.Undo(p.L.ID); err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("undo %s: %w", p.L.ID, err))
		return
	}
	s.done(w, r, p, "undo", reply{Message: flashes["undo"]})
}

func (s *Server) handleSolution(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	force := r.PostFormValue("force") == "1"
	files, err := s.cfg.Backend.Solution(p.L.ID, force)
	if err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("solution of %s: %w", p.L.ID, err))
		return
	}
	v := solutionOf(p, files)
	if wantsJSON(r) {
		html, err := s.execute("fragments", "solution", v)
		if err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, reply{OK: true, Solution: html})
		return
	}
	s.writePage(w, http.StatusOK, "solution", &page{Title: "Solution · " + p.L.Number + " · " + p.L.Title, LessonID: "", Solution: v})
}

func (s *Server) handleOpen(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	file := r.PostFormValue("file")
	if !slices.Contains(p.L.Files, file) {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("open: %s is not a file of lesson %s (%s)", quote(file), p.L.ID, strings.Join(p.L.Files, ", ")))
		return
	}
	if err := s.cfg.Backend.OpenInEditor(p.L.ID, file); err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("open %s: %w", workspaceFile(p.L.ID, file), err))
		return
	}
	s.done(w, r, p, "open", reply{Message: "Asked your editor to open " + workspaceFile(p.L.ID, file) + "."})
}

// handleStatic serves static/ from the embedded or dev file system. Names
// must be valid fs paths (no "..", no leading "/"), and directories are
// not listed.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, "\\") {
		s.handleNotFound(w, r)
		return
	}
	name = path.Join("static", name)
	fi, err := fs.Stat(s.assets, name)
	if err != nil || !fi.Mode().IsRegular() {
		s.handleNotFound(w, r)
		return
	}
	b, err := fs.ReadFile(s.assets, name)
	if err != nil {
		s.handleNotFound(w, r)
		return
	}
	serveBytes(w, r, name, b)
}

func (s *Server) handleChroma(w http.ResponseWriter, r *http.Request) {
	serveBytes(w, r, "chroma.css", s.chroma)
}

func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(s.assets, "static/favicon.svg")
	if err != nil {
		s.handleNotFound(w, r)
		return
	}
	serveBytes(w, r, "favicon.svg", b)
}

// serveBytes serves an asset with an ETag, so a reload revalidates cheaply
// and a changed file in dev mode is picked up at once.
func serveBytes(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
