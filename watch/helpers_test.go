package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Generous limits for a loaded 2-core box. A save normally shows up about
// Debounce (100 ms) after it is made.
const (
	arriveWithin = 3 * time.Second        // a Change that should come
	quietFor     = 300 * time.Millisecond // no second Change for one save
)

// TestMain lets more tests run side by side than the default -parallel
// (GOMAXPROCS, 2 on the project's box): they spend their time waiting for
// debounce windows, not computing. An explicit -parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "16"); err != nil {
			fmt.Fprintln(os.Stderr, "set -test.parallel:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// source returns the content of exercise.go for save number n.
func source(n int) string {
	return fmt.Sprintf("package p\n\nconst V = %d\n", n)
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// rawLog collects the watcher's debug lines, to be shown when a test fails
// and searched by tests that check what an editor really did.
type rawLog struct {
	mu    sync.Mutex
	start time.Time
	lines []string
}

func (r *rawLog) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf("%7.1fms ", float64(time.Since(r.start).Microseconds())/1000)+fmt.Sprintf(format, args...))
}

func (r *rawLog) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// harness runs one Watcher over one or more temp directories.
type harness struct {
	t    *testing.T
	dirs []string
	w    *Watcher
	log  *rawLog
}

// start creates each directory with files, starts a Watcher on them with o
// and stops it when the test ends.
func start(t *testing.T, files []map[string]string, o Options) *harness {
	t.Helper()
	h := &harness{t: t, log: &rawLog{start: time.Now()}}
	for range files {
		h.dirs = append(h.dirs, t.TempDir())
	}
	for i, fs := range files {
		for name, content := range fs {
			writeFile(t, filepath.Join(h.dirs[i], name), content)
		}
	}
	o.logf = h.log.logf
	w, err := New(h.dirs, o)
	if err != nil {
		t.Fatalf("New(%q) error: %v", h.dirs, err)
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }() // ends when the cleanup cancels ctx
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return within 5s of cancel")
		}
		if t.Failed() {
			t.Logf("watcher log:\n%s", strings.Join(h.log.snapshot(), "\n"))
		}
	})
	return h
}

// one starts a watcher on a single directory holding exercise.go (source 0)
// and helper.go.
func one(t *testing.T, o Options) *harness {
	t.Helper()
	return start(t, []map[string]string{{"exercise.go": source(0), "helper.go": "package p\n"}}, o)
}

// settle waits until Run has made its first look at every directory, so
// that a save made next is found by the mechanism under test, not by that
// look. It checks the log rather than sleeping blindly.
func (h *harness) settle() {
	h.t.Helper()
	h.waitLog("content unchanged", len(h.dirs))
}

// waitLog waits until the watcher has logged a line containing s n times.
func (h *harness) waitLog(s string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(arriveWithin)
	for time.Now().Before(deadline) {
		if strings.Count(strings.Join(h.log.snapshot(), "\n"), s) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("the watcher did not log %q %d times within %v", s, n, arriveWithin)
}

func (h *harness) path(name string) string { return filepath.Join(h.dirs[0], name) }

// want returns the Files a Change for the single directory should carry
// when exercise.go holds source(n).
func (h *harness) want(n int) map[string]string {
	return map[string]string{"exercise.go": sum(source(n)), "helper.go": sum("package p\n")}
}

// expect waits for the next Change and checks its directory and files.
func (h *harness) expect(dir string, files map[string]string) Change {
	h.t.Helper()
	select {
	case c, ok := <-h.w.Changes():
		if !ok {
			h.t.Fatalf("Changes closed, want a change in %s", dir)
		}
		if c.Dir != dir || !maps.Equal(c.Files, files) {
			h.t.Fatalf("Change = %s %v, want %s %v", c.Dir, names(c.Files), dir, names(files))
		}
		if c.Seen.IsZero() {
			h.t.Errorf("Change.Seen is zero")
		}
		return c
	case <-time.After(arriveWithin):
		h.t.Fatalf("no Change within %v, want %s %v", arriveWithin, dir, names(files))
	}
	return Change{}
}

// next waits for the next Change, whatever it carries.
func (h *harness) next() Change {
	h.t.Helper()
	select {
	case c, ok := <-h.w.Changes():
		if !ok {
			h.t.Fatal("Changes closed, want a change")
		}
		return c
	case <-time.After(arriveWithin):
		h.t.Fatalf("no Change within %v", arriveWithin)
	}
	return Change{}
}

// expectNone checks that no Change arrives for d.
func (h *harness) expectNone(d time.Duration) {
	h.t.Helper()
	select {
	case c := <-h.w.Changes():
		h.t.Fatalf("got Change %s %v, want none", c.Dir, names(c.Files))
	case <-time.After(d):
	}
}

// names shows a Files map as name:hash-prefix pairs, sorted.
func names(files map[string]string) string {
	var out []string
	for name, h := range files {
		out = append(out, name+":"+h[:8])
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
