// Package site is the tutor's local web server: the course map, the lesson
// pages, live updates over Server-Sent Events, and the buttons that ask for
// a check, a hint, a reset or the solution.
//
// The site shows; it does not run checks, watch files or write progress.
// Everything it shows comes from a [Backend], and everything a button does
// is a call to one. Every page and asset is embedded, no request leaves the
// machine, and the server refuses requests for other hosts (DNS rebinding)
// and state-changing requests from other origins (CSRF).
package site

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site/render"
)

// Backend is what the site shows and what its buttons act on. The
// orchestrator implements it; every method must be safe for concurrent use.
type Backend interface {
	// Snapshot returns the current state of everything.
	Snapshot() Snapshot
	// Subscribe returns live events until ctx is done, then closes the
	// channel. A slow subscriber may miss events, but the next event of a
	// lesson always carries that lesson's full state.
	Subscribe(ctx context.Context) <-chan Event
	// CheckNow queues a check of the lesson's current files.
	CheckNow(id string) error
	// RevealHint reveals the next hint and returns how many are now shown.
	RevealHint(id string) (shown int, err error)
	// Reset backs up the learner's files and restores the starter.
	Reset(id string) (backupDir string, err error)
	// Undo restores the last backup.
	Undo(id string) error
	// Solution returns the reference files, file name → content. It fails
	// unless the lesson has passed or force is set (which marks the lesson
	// as assisted).
	Solution(id string, force bool) (map[string][]byte, error)
	// OpenInEditor runs the configured editor command on a lesson file.
	OpenInEditor(id, file string) error
}

// Snapshot is the state of the whole course at one moment.
type Snapshot struct {
	Workspace string                 // absolute path of the learner's workspace
	Notice    string                 // a course-wide notice ("saves not detected here; polling every 0.5 s"), "" if none
	Lessons   map[string]LessonState // by lesson ID
}

// The values of [LessonState.Status].
const (
	NotStarted = "not-started"
	InProgress = "in-progress"
	Passed     = "passed"
)

// LessonState is everything the site knows about one lesson's progress.
type LessonState struct {
	Status   string          // NotStarted, InProgress or Passed
	Checking bool            // a check is running now
	Result   *checker.Result // the last result, nil if none yet
	// Progress is how far the check running now has got (nil if none is
	// running or it has not reached its first check).
	Progress   *checker.Progress
	HintsShown int
	Attempts   int
	Assisted   bool // the learner saw the solution before passing
}

// Event is one live change. Lesson is "" for a course-wide event (the
// notice changed); otherwise State is that lesson's full state.
type Event struct {
	Lesson string
	State  LessonState
	Notice string
}

// Config is what [New] needs.
type Config struct {
	Course  *lessons.Course
	Backend Backend
	// Hosts are the allowed Host header values, such as "127.0.0.1:7070"
	// and "localhost:7070". Requests for any other host are refused.
	Hosts []string
	// Dev, if not empty, is the directory holding templates/ and static/
	// (the repository's site/): they are read from disk on every request,
	// so edits show on reload without a rebuild.
	Dev string
	// Editor is the configured editor command. If empty, "open in editor"
	// is a vscode://file link; otherwise it asks the Backend to run it.
	Editor string
	// Labs runs the lab pages' experiments; nil: the pages show the knobs
	// but cannot run.
	Labs LabRunner
	// Token, if not empty, is required on every request (see [TokenGate]):
	// set it whenever the server listens on an address other machines can
	// reach.
	Token string
}

// embedded holds the templates and static files the binary ships with.
//
//go:embed templates static
var embedded embed.FS

// Server is the web site. Build it with [New]; it is an [http.Handler].
type Server struct {
	cfg       Config
	hosts     map[string]bool
	pages     []*lessonPage          // course order
	byID      map[string]*lessonPage // by full lesson ID
	modules   []string
	assets    fs.FS // holds templates/ and static/
	templates map[string]*template.Template
	chroma    []byte
	csp       string
	heartbeat time.Duration // SSE comment interval
	handler   http.Handler
	charts    chartCache
	gate      *TokenGate // nil: no token needed (loopback)
}

// lessonPage is a lesson with its text rendered once.
type lessonPage struct {
	L      *lessons.Lesson
	Index  int // position in the course, from 0
	Module int // module number, from 1
	Body   template.HTML
	TOC    []render.Heading
	Hints  []hintView
}

type hintView struct {
	N     int
	Title string
	Body  template.HTML
}

// New checks cfg, renders every lesson's text and hints once (failing with
// the lesson's path if one does not render), parses the templates and
// returns the site.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Course == nil || len(cfg.Course.Lessons) == 0:
		return nil, errors.New("site: no course")
	case cfg.Backend == nil:
		return nil, errors.New("site: no backend")
	case len(cfg.Hosts) == 0:
		return nil, errors.New("site: no allowed hosts (set Config.Hosts to the address the server listens on)")
	}
	s := &Server{
		cfg:       cfg,
		hosts:     map[string]bool{},
		byID:      map[string]*lessonPage{},
		modules:   cfg.Course.Modules(),
		chroma:    render.CSS(),
		csp:       contentSecurityPolicy(),
		heartbeat: 15 * time.Second,
	}
	for _, h := range cfg.Hosts {
		s.hosts[strings.ToLower(h)] = true
	}
	if cfg.Token != "" {
		g, err := NewTokenGate(cfg.Token)
		if err != nil {
			return nil, err
		}
		s.gate = g
	}
	if cfg.Dev != "" {
		s.assets = os.DirFS(cfg.Dev)
		if _, err := fs.Stat(s.assets, "templates/layout.html"); err != nil {
			return nil, fmt.Errorf("site: dev directory %s: %w", cfg.Dev, err)
		}
	} else {
		s.assets = embedded
	}
	r := render.New()
	for i, l := range cfg.Course.Lessons {
		body, toc, err := r.Markdown(l.Body)
		if err != nil {
			return nil, fmt.Errorf("site: render %s: %w", l.Path, err)
		}
		p := &lessonPage{L: l, Index: i, Body: dropTitle(body), TOC: toc}
		for j, m := range s.modules {
			if m == l.Module {
				p.Module = j + 1
			}
		}
		for j, h := range l.Hints {
			hb, _, err := r.Markdown(h.Body)
			if err != nil {
				return nil, fmt.Errorf("site: render %s (hint %d): %w", path.Join(path.Dir(l.Path), "hints.md"), j+1, err)
			}
			p.Hints = append(p.Hints, hintView{N: j + 1, Title: h.Title, Body: hb})
		}
		s.pages = append(s.pages, p)
		s.byID[l.ID] = p
	}
	if cfg.Dev == "" {
		t, err := parseTemplates(s.assets)
		if err != nil {
			return nil, err
		}
		s.templates = t
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves the whole site, with the security checks applied.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// routes builds the handler: security first, then the mux.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleMap)
	mux.HandleFunc("GET /lesson/{id}", s.handleLesson)
	mux.HandleFunc("GET /lab/{name}", s.handleLab)
	mux.HandleFunc("GET /events", s.handleEvents)
	mux.HandleFunc("GET /static/{file...}", s.handleStatic)
	mux.HandleFunc("GET /chroma.css", s.handleChroma)
	mux.HandleFunc("GET /favicon.ico", s.handleFavicon)
	mux.HandleFunc("GET /", s.handleNotFound)

	mux.HandleFunc("POST /api/lesson/{id}/check", s.handleCheck)
	mux.HandleFunc("POST /api/lesson/{id}/hint", s.handleHint)
	mux.HandleFunc("POST /api/lesson/{id}/reset", s.handleReset)
	mux.HandleFunc("POST /api/lesson/{id}/undo", s.handleUndo)
	mux.HandleFunc("POST /api/lesson/{id}/solution", s.handleSolution)
	mux.HandleFunc("POST /api/lesson/{id}/open", s.handleOpen)
	mux.HandleFunc("POST /api/lesson/{id}/help", s.handleAskHelp)
	mux.HandleFunc("POST /api/lab/{name}/run", s.handleLabRun)
	mux.HandleFunc("POST /api/lesson/{id}/demo", s.handleDemo)
	mux.HandleFunc("POST /api/lesson/{id}/fire", s.handleFire)

	return s.secure(mux)
}

// lesson resolves a lesson ID or number ("02", "2", "02-event-loop").
func (s *Server) lesson(id string) (*lessonPage, error) {
	l, err := s.cfg.Course.Lesson(id)
	if err != nil {
		return nil, err
	}
	return s.byID[l.ID], nil
}

// dropTitle removes a leading <h1> from a rendered lesson body: the page
// shows the front matter's title above it already.
func dropTitle(body template.HTML) template.HTML {
	s := string(body)
	if !strings.HasPrefix(s, "<h1") {
		return body
	}
	_, rest, ok := strings.Cut(s, "</h1>")
	if !ok {
		return body
	}
	return template.HTML(strings.TrimLeft(rest, "\n"))
}
