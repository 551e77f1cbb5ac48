// Package scaffold writes the skeleton of a new lesson for `tutor new`:
// lesson.md with its front matter, three hints, a starter, a solution, an
// alternative solution, two wrong variants and a hidden check file that
// follows the check… naming rule. The skeleton loads with [lessons.Load]
// and verifies (its starter and wrong variants fail, its solutions pass),
// so an author starts from a lesson that works and replaces its
// placeholder exercise.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/gotutor/tutor/lessons"
)

//go:embed skeleton/*.tmpl
var skeleton embed.FS

// Module is the module path of the tutor's repository; New writes only
// into that repository's lessons directory.
const Module = "github.com/gotutor/tutor"

// DefaultModule is the module title of a lesson when the course has no
// earlier lesson to take one from.
const DefaultModule = "Drafts"

// idPattern is what a lesson ID looks like: two digits, then lowercase
// words of letters and digits joined by single hyphens, the first word
// starting with a letter (it names the Go package).
var idPattern = regexp.MustCompile(`^(\d\d)-([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$`)

// Problem kinds New and Files report: one clear line each.
var (
	ErrBadID      = errors.New("bad lesson id")
	ErrTaken      = errors.New("lesson number taken")
	ErrNotRepo    = errors.New("not in the tutor repository")
	ErrWriteFiles = errors.New("cannot write the lesson")
)

// Lesson describes the skeleton to write.
type Lesson struct {
	ID      string // "13-pool-sizes"
	Number  string // "13"
	Package string // the Go package of the exercise: the slug without hyphens, "poolsizes"
	File    string // the file the learner edits: Package + ".go"
	Module  string // module title in the front matter
}

// Parse checks id and returns the lesson it names, with module as its
// module title.
func Parse(id, module string) (Lesson, error) {
	m := idPattern.FindStringSubmatch(id)
	if m == nil {
		return Lesson{}, fmt.Errorf("%w %q: want NN-slug, two digits and lowercase words joined by hyphens, the first starting with a letter (e.g. 13-pool-sizes)", ErrBadID, id)
	}
	if m[1] == "00" {
		return Lesson{}, fmt.Errorf("%w %q: lesson numbers start at 01", ErrBadID, id)
	}
	pkg := strings.ReplaceAll(m[2], "-", "")
	return Lesson{ID: id, Number: m[1], Package: pkg, File: pkg + ".go", Module: module}, nil
}

// Files returns the skeleton's files, path relative to the lessons
// directory ("13-pool-sizes/lesson.md") → content.
func (l Lesson) Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	places := map[string]string{
		"lesson.md.tmpl":     "lesson.md",
		"hints.md.tmpl":      "hints.md",
		"check_test.go.tmpl": "check/check_test.go",
	}
	for _, v := range []string{"starter", "solution", "alt-count-down", "wrong-off-by-one", "wrong-cache"} {
		places[v+".go.tmpl"] = v + "/" + l.File
	}
	for name, dest := range places {
		src, err := fs.ReadFile(skeleton, "skeleton/"+name)
		if err != nil {
			return nil, fmt.Errorf("skeleton %s: %w", name, err)
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("skeleton %s: %w", name, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, l); err != nil {
			return nil, fmt.Errorf("skeleton %s: %w", name, err)
		}
		out[l.ID+"/"+dest] = b.Bytes()
	}
	return out, nil
}

// FindLessons returns the lessons directory of the tutor repository that
// holds dir (dir itself or one of its parents: the directory with a go.mod
// of module [Module] and a lessons/embed.go).
func FindLessons(dir string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRepo, err)
	}
	for d := start; ; d = filepath.Dir(d) {
		if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if modulePath(mod) == Module {
				if _, err := os.Stat(filepath.Join(d, "lessons", "embed.go")); err == nil {
					return filepath.Join(d, "lessons"), nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%w: no go.mod of %s with a lessons/ directory in %s or above it; run tutor new inside a clone of the repository", ErrNotRepo, Module, start)
		}
	}
}

// modulePath returns the module path a go.mod declares, or "".
func modulePath(mod []byte) string {
	for line := range strings.SplitSeq(string(mod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Write writes the skeleton of lesson id into lessonsDir (the repository's
// lessons directory) and returns the paths written, relative to
// lessonsDir. The module title is the one of the closest lesson with a
// lower number ([DefaultModule] if there is none). It refuses a bad id and
// a number another lesson already has, and writes nothing then.
func Write(lessonsDir, id string) ([]string, error) {
	l, err := Parse(id, "")
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(lessonsDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWriteFiles, err)
	}
	l.Module = DefaultModule
	var before []string
	for _, e := range ents {
		m := idPattern.FindStringSubmatch(e.Name())
		if !e.IsDir() || len(e.Name()) < 3 || e.Name()[2] != '-' || !isDigits(e.Name()[:2]) {
			continue
		}
		if e.Name()[:2] == l.Number {
			return nil, fmt.Errorf("%w: %s already exists (%s); pick another number", ErrTaken, e.Name(), filepath.Join(lessonsDir, e.Name()))
		}
		if m != nil && m[1] < l.Number {
			before = append(before, e.Name())
		}
	}
	if len(before) > 0 {
		slices.Sort(before)
		if mod := moduleOf(filepath.Join(lessonsDir, before[len(before)-1], "lesson.md")); mod != "" {
			l.Module = mod
		}
	}
	files, err := l.Files()
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range files {
			if !yield(name) {
				return
			}
		}
	})
	// Create the directory first, exclusively: two authors racing for the
	// same id cannot both get it.
	if err := os.Mkdir(filepath.Join(lessonsDir, l.ID), 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWriteFiles, err)
	}
	for _, name := range names {
		p := filepath.Join(lessonsDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWriteFiles, err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWriteFiles, err)
		}
	}
	return names, nil
}

func isDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// moduleOf returns the module title in a lesson.md's front matter, or "".
func moduleOf(path string) string {
	src, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	l, _ := lessons.Parse(path, src)
	if l == nil {
		return ""
	}
	return l.Module
}
