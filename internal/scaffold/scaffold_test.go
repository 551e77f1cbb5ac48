package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gotutor/tutor/lessons"
)

func TestParse(t *testing.T) {
	l, err := Parse("13-pool-sizes", "Pool limits")
	if err != nil {
		t.Fatal(err)
	}
	if l.Number != "13" || l.Package != "poolsizes" || l.File != "poolsizes.go" || l.Module != "Pool limits" {
		t.Errorf("Parse = %+v", l)
	}
	for _, bad := range []string{"", "13", "13-", "3-x", "13_x", "13-Pool", "13-pool--sizes", "13-pool-", "13-9lives", "x13-pool", "00-zero", "13-pool sizes", "../13-x"} {
		if _, err := Parse(bad, "M"); !errors.Is(err, ErrBadID) {
			t.Errorf("Parse(%q) = %v, want ErrBadID", bad, err)
		}
	}
}

// course returns the skeleton of id with the shipped loop and harness
// packages: a course lessons.Load can read.
func course(t *testing.T, l Lesson) fstest.MapFS {
	t.Helper()
	files, err := l.Files()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for name, b := range files {
		fsys[name] = &fstest.MapFile{Data: b}
	}
	for _, dir := range []string{"loop", "harness"} {
		err := fs.WalkDir(lessons.Embedded(), dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(lessons.Embedded(), p)
			fsys[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

func TestSkeletonLoads(t *testing.T) {
	l, err := Parse("42-first-try", "Pool: limits") // a colon must not break the YAML
	if err != nil {
		t.Fatal(err)
	}
	c, err := lessons.Load(course(t, l), "lessons")
	if err != nil {
		t.Fatalf("the skeleton does not load:\n%v", err)
	}
	got := c.Lessons[0]
	if got.ID != "42-first-try" || got.Module != "Pool: limits" || got.Package() != "firsttry" || len(got.Hints) < 3 {
		t.Errorf("loaded %s, module %q, package %q, %d hints", got.ID, got.Module, got.Package(), len(got.Hints))
	}
	var pass, fail int
	for _, v := range got.Variants {
		if v.Expect == lessons.MustPass {
			pass++
		} else {
			fail++
		}
	}
	if pass < 2 || fail < 3 {
		t.Errorf("%d passing and %d failing variants, want a solution and an alternative, a starter and two wrong ones", pass, fail)
	}
	for name, src := range got.Checks {
		if !strings.Contains(string(src), "harness.Begin(t, ") {
			t.Errorf("check file %s does not use harness.Begin", name)
		}
		bad, err := lessons.OffRuleNames(name, src)
		if err != nil || len(bad) > 0 {
			t.Errorf("check file %s breaks the naming rule: %v %v", name, bad, err)
		}
	}
	if n := lessons.ProseWords(got.Body); n > 1500 {
		t.Errorf("the skeleton's text has %d words of prose, over the limit of 1500", n)
	}
}

// repo makes a fake tutor repository with one lesson, 05-early, of module
// "Early things", and returns its lessons directory.
func repo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module "+Module+"\n\ngo 1.26\n")
	write("lessons/embed.go", "package lessons\n")
	write("lessons/05-early/lesson.md", "---\nid: 05-early\nmodule: Early things\n---\n")
	write("lessons/20-late/lesson.md", "---\nid: 20-late\nmodule: Late things\n---\n")
	return filepath.Join(root, "lessons")
}

func TestWrite(t *testing.T) {
	dir := repo(t)
	names, err := Write(dir, "07-next-one")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 8 {
		t.Errorf("wrote %d files, want 8: %v", len(names), names)
	}
	src, err := os.ReadFile(filepath.Join(dir, "07-next-one", "lesson.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `module: "Early things"`) {
		t.Errorf("the new lesson does not take the module of the lesson before it (05-early):\n%s", src)
	}
	// What Write put on disk loads, next to the shipped loop and harness.
	l, _ := Parse("07-next-one", "Early things")
	want := course(t, l)
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(b) != string(want[name].Data) {
			t.Errorf("%s on disk differs from the skeleton (%v)", name, err)
		}
	}
	if _, err := lessons.Load(want, "lessons"); err != nil {
		t.Errorf("written skeleton does not load: %v", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	dir := repo(t)
	for _, tc := range []struct {
		id   string
		want error
	}{
		{"05-early", ErrTaken},
		{"05-other-slug", ErrTaken}, // the number is what must be unique
		{"5-early", ErrBadID},
		{"06-Bad", ErrBadID},
		{"06-a/b", ErrBadID},
	} {
		_, err := Write(dir, tc.id)
		if !errors.Is(err, tc.want) {
			t.Errorf("Write(%q) = %v, want %v", tc.id, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Write(%q): the error is more than one line: %q", tc.id, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 { // embed.go, 05-early, 20-late
		t.Errorf("a refused Write left files behind: %d entries in lessons/", len(ents))
	}
}

func TestFindLessons(t *testing.T) {
	dir := repo(t)
	deep := filepath.Join(dir, "05-early", "sub")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := FindLessons(deep); err != nil || got != dir {
		t.Errorf("FindLessons(inside the repository) = %q, %v; want %q", got, err, dir)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{other, t.TempDir()} {
		if _, err := FindLessons(d); !errors.Is(err, ErrNotRepo) {
			t.Errorf("FindLessons(%s) = %v, want ErrNotRepo", d, err)
		}
	}
}
