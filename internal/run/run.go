// Package run serves a learner's lesson code as a real HTTP server on
// loopback: `tutor run ID` and the lesson page's Fire panel.
//
// The learner's package is imported by a small generated main (one
// [Recipe] per lesson that serves HTTP, with fake downstream services) in a
// scratch module whose go.mod points at the workspace, built with `go
// build` and run as a child process on a port of its own. A [Server] is a
// reverse proxy on a stable loopback address in front of that child: a
// rebuild starts the new child first and swaps it in, so a save that does
// not compile leaves the previous server running.
package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config is what [New] needs.
type Config struct {
	GoBin    string // the go command
	Root     string // the workspace root (its go.mod names Module)
	Module   string // the workspace's module path
	LessonID string // full lesson ID, such as "02-event-loop"
	Scratch  string // a directory outside the workspace for the build
}

// Server serves one lesson's current code. Make one with [New]; Close it.
type Server struct {
	cfg    Config
	recipe Recipe
	dir    string // scratch module for the build

	build sync.Mutex // one build at a time

	mu    sync.Mutex
	child *child // the process serving now; nil before the first build
	gen   int    // builds that succeeded

	// transport carries every forwarded request: no limit on connections
	// per host, so N requests at once really are N at once.
	transport *http.Transport
}

// child is one running build of the learner's code.
type child struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
}

// New prepares a server for a lesson; it fails with one line if the lesson
// has no server.
func New(cfg Config) (*Server, error) {
	r, err := For(cfg.LessonID)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", cfg.LessonID, err)
	}
	cfg.Root = root
	if cfg.GoBin == "" {
		cfg.GoBin = "go"
	}
	dir, err := os.MkdirTemp(cfg.Scratch, "run-"+cfg.LessonID+"-")
	if err != nil {
		return nil, fmt.Errorf("run %s: scratch directory: %w", cfg.LessonID, err)
	}
	gomod := fmt.Sprintf("module tutorrun\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", cfg.Module, cfg.Module, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, fmt.Errorf("run %s: %w", cfg.LessonID, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainSource(cfg.Module, cfg.LessonID, r)), 0o644); err != nil {
		return nil, fmt.Errorf("run %s: %w", cfg.LessonID, err)
	}
	return &Server{cfg: cfg, recipe: r, dir: dir, transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}}, nil
}

// Recipe returns how the lesson is served (its routes).
func (s *Server) Recipe() Recipe { return s.recipe }

// BuildError is a save that does not compile; Line is the first compiler
// message, with the scratch module's paths made relative to the workspace.
type BuildError struct{ Line string }

func (e *BuildError) Error() string { return "does not compile: " + e.Line }

// Rebuild builds the learner's current files and, if they compile, swaps
// the new server in and stops the old one. If they do not, it returns a
// [*BuildError] and the previous server (if any) keeps serving.
func (s *Server) Rebuild(ctx context.Context) error {
	s.build.Lock()
	defer s.build.Unlock()
	s.mu.Lock()
	n := s.gen + 1
	s.mu.Unlock()
	bin := filepath.Join(s.dir, fmt.Sprintf("server-%d", n))
	cmd := exec.CommandContext(ctx, s.cfg.GoBin, "build", "-o", bin, ".")
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &BuildError{Line: s.firstError(string(out), err)}
	}
	c, err := start(bin)
	if err != nil {
		return fmt.Errorf("run %s: %w", s.cfg.LessonID, err)
	}
	s.mu.Lock()
	old := s.child
	s.child, s.gen = c, n
	s.mu.Unlock()
	if old != nil {
		old.stop()
		os.Remove(old.cmd.Path)
	}
	return nil
}

// firstError picks the first compiler message out of go build's output.
func (s *Server) firstError(out string, err error) string {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// go build names files relative to the scratch module; say them
		// relative to the workspace, as the learner knows them.
		if file, rest, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(file, ".go") {
			if !filepath.IsAbs(file) {
				file = filepath.Join(s.dir, file)
			}
			if rel, err := filepath.Rel(s.cfg.Root, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = filepath.ToSlash(rel)
			}
			line = file + ":" + rest
		}
		return line
	}
	return err.Error()
}

// start runs a built server and waits for its address.
func start(bin string) (*child, error) {
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server: %w", err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	// This goroutine reads the child's output until it exits, then reaps it.
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		if first {
			close(lines)
		}
		cmd.Wait()
		close(c.done)
	}()
	select {
	case line, ok := <-lines:
		addr, found := strings.CutPrefix(line, "listening ")
		if !ok || !found {
			c.stop()
			return nil, errors.New("the server did not start (see its output above)")
		}
		c.addr = addr
		return c, nil
	case <-time.After(10 * time.Second):
		c.stop()
		return nil, errors.New("the server did not say its address within 10 s")
	}
}

func (c *child) stop() {
	killGroup(c.cmd)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}

// Running reports whether a build is serving, and how many builds have
// been swapped in so far.
func (s *Server) Running() (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.child != nil, s.gen
}

// ServeHTTP forwards a request to the current build; before the first
// build that compiles it answers 503 with one line saying why.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.child
	s.mu.Unlock()
	if c == nil {
		http.Error(w, "tutor run: lesson "+s.cfg.LessonID+" has no build that compiles yet; save a version that does", http.StatusServiceUnavailable)
		return
	}
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: c.addr})
	p.Transport = s.transport
	p.ServeHTTP(w, r)
}

// Close stops the current build and removes the scratch module.
func (s *Server) Close() error {
	s.build.Lock()
	defer s.build.Unlock()
	s.mu.Lock()
	c := s.child
	s.child = nil
	s.mu.Unlock()
	if c != nil {
		c.stop()
	}
	s.transport.CloseIdleConnections()
	return os.RemoveAll(s.dir)
}

// Listen is a loopback listener for addr; any address that is not
// loopback is refused: the server runs the learner's code.
func Listen(addr string) (net.Listener, error) {
	if err := Loopback(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

// Loopback returns an error unless addr is a loopback host and a port.
func Loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("run: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("run: %s is not a loopback address; tutor run serves only this machine", addr)
	}
	return nil
}
