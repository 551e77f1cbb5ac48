package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons"
)

// course returns a one-lesson course whose starter and loop files are given.
func course(starter, loop string) *lessons.Course {
	l := &lessons.Lesson{
		ID: "01-demo", Number: "01", Files: []string{"demo.go"},
		Variants: []lessons.Variant{
			{Name: "starter", Expect: lessons.MustFail, Files: map[string][]byte{"demo.go": []byte(starter)}},
			{Name: "solution", Expect: lessons.MustPass, Files: map[string][]byte{"demo.go": []byte("package demo // solved\n")}},
		},
	}
	return &lessons.Course{Lessons: []*lessons.Lesson{l}, Shared: map[string][]byte{"loop/loop.go": []byte(loop)}}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInitNeverOverwritesTheLearner(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	v1 := course("package demo // v1\n", "package loop // v1\n")
	rep, err := w.Init(v1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"01-demo/demo.go", "README.md", "go.mod", "go.sum", "loop/loop.go"}; !slices.Equal(rep.Created, want) {
		t.Errorf("created %v, want %v", rep.Created, want)
	}
	demo := filepath.Join(w.Root, "01-demo", "demo.go")
	os.WriteFile(demo, []byte("package demo // mine\n"), 0o644)

	// A newer tutor: the untouched loop file is updated, the learner's file kept.
	v2 := course("package demo // v2\n", "package loop // v2\n")
	rep, err = w.Init(v2)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, demo); got != "package demo // mine\n" {
		t.Errorf("learner's file = %q after init, want it kept", got)
	}
	if got := read(t, filepath.Join(w.Root, "loop", "loop.go")); got != "package loop // v2\n" {
		t.Errorf("untouched loop file = %q, want the new version", got)
	}
	if !slices.Equal(rep.Kept, []string{"01-demo/demo.go"}) || !slices.Equal(rep.Updated, []string{"loop/loop.go"}) {
		t.Errorf("report = %+v", rep)
	}
	// A file the learner deleted comes back.
	os.Remove(demo)
	if _, err := w.Init(v2); err != nil {
		t.Fatal(err)
	}
	if got := read(t, demo); got != "package demo // v2\n" {
		t.Errorf("deleted file restored as %q, want the starter", got)
	}
}

func TestResetAndUndo(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	c := course("package demo // starter\n", "package loop\n")
	if _, err := w.Init(c); err != nil {
		t.Fatal(err)
	}
	l := c.Lessons[0]
	demo := filepath.Join(w.Root, "01-demo", "demo.go")
	if _, err := w.Undo(l); !errors.Is(err, ErrNoBackup) {
		t.Errorf("Undo with no backup = %v, want ErrNoBackup", err)
	}
	os.WriteFile(demo, []byte("package demo // work\n"), 0o644)
	backup, err := w.Reset(l)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(backup, "demo.go")); got != "package demo // work\n" {
		t.Errorf("backup holds %q", got)
	}
	if got := read(t, demo); got != "package demo // starter\n" {
		t.Errorf("after reset: %q", got)
	}
	// The learner edits after the reset, then undoes: both versions survive.
	os.WriteFile(demo, []byte("package demo // after reset\n"), 0o644)
	time.Sleep(2 * time.Millisecond) // distinct backup names
	if _, err := w.Undo(l); err != nil {
		t.Fatal(err)
	}
	if got := read(t, demo); got != "package demo // work\n" {
		t.Errorf("after undo: %q, want the work from before the reset", got)
	}
	if _, err := w.Undo(l); err != nil {
		t.Fatal(err)
	}
	if got := read(t, demo); got != "package demo // after reset\n" {
		t.Errorf("second undo: %q, want the edit made after the reset (it was backed up, not lost)", got)
	}
}

func TestProgress(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	os.MkdirAll(filepath.Join(w.Root, StateDir), 0o755)
	s := w.Progress()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, v := range []struct{ verdict, fp string }{{"fail", "a"}, {"fail", "a"}, {"pass", "b"}, {"fail", "c"}} {
		if _, err := s.Update(func(p *Progress) { p.Lesson("01-demo").Record(v.verdict, v.fp, now) }); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	lp := p.Lessons["01-demo"]
	if lp.Status != Passed || lp.Attempts != 3 || lp.FirstPass == nil || lp.LastVerdict != "fail" {
		t.Errorf("progress = %+v; want passed (it stays passed), 3 attempts (a re-check of the same files is not one), first pass set", lp)
	}
}

// TestRequirementsMatchTheTutorModule holds the workspace's requirements to
// the versions and hashes in the tutor's own go.mod and go.sum, which build
// the same lesson code in this repository.
func TestRequirementsMatchTheTutorModule(t *testing.T) {
	mod := read(t, filepath.Join("..", "go.mod"))
	sum := read(t, filepath.Join("..", "go.sum"))
	for _, r := range Requirements() {
		if !strings.Contains(mod, "\t"+r.Path+" "+r.Version+"\n") {
			t.Errorf("the tutor's go.mod does not require %s %s", r.Path, r.Version)
		}
		for _, line := range []string{r.Path + " " + r.Version + " " + r.Sum, r.Path + " " + r.Version + "/go.mod " + r.GoModSum} {
			if !strings.Contains(sum, line+"\n") {
				t.Errorf("the tutor's go.sum lacks %q", line)
			}
		}
		if !strings.Contains(string(GoMod()), "require "+r.Path+" "+r.Version+"\n") {
			t.Errorf("GoMod() = %q, want it to require %s %s", GoMod(), r.Path, r.Version)
		}
	}
}
