package lessons

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const goodMD = `---
id: 01-demo
title: A demo
module: Basics
summary: One sentence.
minutes: 10
files: [demo.go]
timeout: 20s
variants:
  - dir: starter
    expect: fail
    failing: [Works]
  - dir: solution
    expect: pass
  - dir: alt-other
    expect: pass
  - dir: wrong-a
    expect: fail
    failing: [Works]
  - dir: wrong-b
    expect: fail
    failing: [Fast]
---
# A demo

Text.
`

const goodHints = "# Hints\n\n## Look\n\nnudge\n\n## Closer\n\ncloser\n\n## Answer\n\nthe line\n"

// course returns a valid one-lesson course; edits change or delete files
// (a nil value deletes).
func course(edits map[string]*string) fstest.MapFS {
	src := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	fs := fstest.MapFS{
		"01-demo/lesson.md":              src(goodMD),
		"01-demo/hints.md":               src(goodHints),
		"01-demo/check/check_test.go":    src(CheckTag + "\n\npackage demo\n"),
		"01-demo/starter/demo.go":        src("package demo\n"),
		"01-demo/solution/demo.go":       src("package demo\n"),
		"01-demo/alt-other/demo.go":      src("package demo\n"),
		"01-demo/wrong-a/demo.go":        src("package demo\n"),
		"01-demo/wrong-b/demo.go":        src("package demo\n"),
		"loop/loop.go":                   src("package loop\n"),
		"harness/harness.go":             src("package harness\n"),
		"harness/harness_test.go":        src("package harness\n"),
		"01-demo/starter/.demo.go.swp":   nil,
		"01-demo/solution/notes.txt.bak": nil,
	}
	for k, v := range edits {
		if v == nil {
			delete(fs, k)
		} else {
			fs[k] = src(*v)
		}
	}
	for k, v := range fs {
		if v == nil {
			delete(fs, k)
		}
	}
	return fs
}

func ptr(s string) *string { return &s }

func TestLoadValid(t *testing.T) {
	c, err := Load(course(nil), "lessons")
	if err != nil {
		t.Fatalf("Load = %v, want no error", err)
	}
	if len(c.Lessons) != 1 {
		t.Fatalf("got %d lessons, want 1", len(c.Lessons))
	}
	l := c.Lessons[0]
	if l.ID != "01-demo" || l.Number != "01" || l.Timeout != 20*time.Second || l.Package() != "demo" {
		t.Errorf("lesson = %+v", l)
	}
	if len(l.Hints) != 3 || l.Hints[2].Title != "Answer" || string(l.Hints[2].Body) != "the line" {
		t.Errorf("hints = %+v", l.Hints)
	}
	if names := []string{l.Variants[0].Name, l.Variants[1].Name}; names[0] != "starter" || names[1] != "solution" {
		t.Errorf("variant order = %v, want starter, solution first", names)
	}
	if l.BodyLine != 24 || !strings.HasPrefix(string(l.Body), "# A demo") {
		t.Errorf("body starts at line %d with %q", l.BodyLine, l.Body[:10])
	}
	if _, ok := c.Harness["harness_test.go"]; ok {
		t.Error("harness tests must not be overlaid into the workspace")
	}
	for _, id := range []string{"01", "1", "01-demo"} {
		if got, err := c.Lesson(id); err != nil || got != l {
			t.Errorf("Lesson(%q) = %v, %v", id, got, err)
		}
	}
	if _, err := c.Lesson("7"); err == nil || !strings.Contains(err.Error(), "valid: 01-demo") {
		t.Errorf("Lesson(7) error = %v, want the valid IDs listed", err)
	}
}

// TestLoadErrors is a table of broken lessons and the exact message each
// must produce, with its location.
func TestLoadErrors(t *testing.T) {
	md := func(old, new string) *string { return ptr(strings.Replace(goodMD, old, new, 1)) }
	tests := []struct {
		name  string
		edits map[string]*string
		want  string
	}{
		{"missing title", map[string]*string{"01-demo/lesson.md": md("title: A demo\n", "")},
			`lessons/01-demo/lesson.md:1: front matter: missing "title"`},
		{"no front matter", map[string]*string{"01-demo/lesson.md": ptr("# Just text\n")},
			`lessons/01-demo/lesson.md:1: front matter: the file must start with a "---" line`},
		{"unclosed", map[string]*string{"01-demo/lesson.md": ptr("---\nid: 01-demo\n")},
			`lessons/01-demo/lesson.md:1: front matter: no closing "---" line`},
		{"bad yaml", map[string]*string{"01-demo/lesson.md": md("minutes: 10\n", "minutes: [10\n")},
			`lessons/01-demo/lesson.md:6: front matter: did not find expected`},
		{"wrong type", map[string]*string{"01-demo/lesson.md": md("minutes: 10\n", "minutes: ten\n")},
			`lessons/01-demo/lesson.md:6: front matter: cannot unmarshal !!str `},
		{"unknown field", map[string]*string{"01-demo/lesson.md": md("minutes: 10\n", "minutes: 10\nauthor: me\n")},
			`lessons/01-demo/lesson.md:7: front matter: unknown field "author"`},
		{"unknown report", map[string]*string{"01-demo/lesson.md": md("minutes: 10\n", "minutes: 10\nreport: table\n")},
			`lessons/01-demo/lesson.md:7: front matter: report "table" is not known (leave it out, or write "objectives")`},
		{"bad timeout", map[string]*string{"01-demo/lesson.md": md("timeout: 20s", "timeout: soon")},
			`lessons/01-demo/lesson.md:8: front matter: timeout "soon" is not a duration`},
		{"id mismatch", map[string]*string{"01-demo/lesson.md": md("id: 01-demo", "id: 01-other")},
			`lessons/01-demo/lesson.md:2: front matter: id "01-other" does not match the directory "01-demo"`},
		{"missing file in variant", map[string]*string{"01-demo/wrong-a/demo.go": nil},
			`lessons/01-demo/wrong-a/demo.go: missing: variant "wrong-a" must provide every file in "files"`},
		{"undeclared dir", map[string]*string{"01-demo/wrong-c/demo.go": ptr("package demo\n")},
			`lessons/01-demo/lesson.md:9: directory wrong-c/ is not declared in front matter "variants"`},
		{"too few hints", map[string]*string{"01-demo/hints.md": ptr("## One\n\nx\n## Two\n\ny\n")},
			`lessons/01-demo/hints.md:1: need at least three progressive hints ("## " headings), found 2`},
		{"check without tag", map[string]*string{"01-demo/check/check_test.go": ptr("package demo\n")},
			`lessons/01-demo/check/check_test.go:1: hidden check must start with "//go:build tutorcheck"`},
		{"no checks", map[string]*string{"01-demo/check/check_test.go": nil, "01-demo/check/README": ptr("x")},
			`lessons/01-demo/check/README: unexpected file: check/ holds only *_test.go files`},
		{"wrong package", map[string]*string{"01-demo/solution/demo.go": ptr("package other\n")},
			`lessons/01-demo/solution/demo.go: package other, but the starter is package demo`},
		{"failing variant without checks", map[string]*string{"01-demo/lesson.md": md("    failing: [Fast]\n", "")},
			`lessons/01-demo/lesson.md:9: front matter: variant "wrong-b": a failing variant must name the checks that must fail ("failing")`},
		{"no alternative", map[string]*string{"01-demo/lesson.md": md("  - dir: alt-other\n    expect: pass\n", ""), "01-demo/alt-other/demo.go": nil},
			`need the solution and at least one alternative correct solution, found 1 passing variants`},
		{"raw html", map[string]*string{"01-demo/lesson.md": md("Text.\n", "Text.\n\n<details>\n<summary>Numbers</summary>\n")},
			`lessons/01-demo/lesson.md:28: raw HTML "<details>" is not rendered`},
		{"extra file in variant", map[string]*string{"01-demo/solution/extra.go": ptr("package demo\n")},
			`lessons/01-demo/solution/extra.go: not listed in lesson.md "files" (demo.go)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(course(tt.edits), "lessons")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestEmbeddedCourse loads the course that ships: a broken lesson file
// fails `go test ./...` here, with the file and line.
func TestEmbeddedCourse(t *testing.T) {
	c, err := Load(Embedded(), "lessons")
	if err != nil {
		t.Fatalf("the shipped course does not load:\n%v", err)
	}
	if len(c.Shared) == 0 || len(c.Harness) == 0 {
		t.Errorf("course has %d shared and %d harness files, want the loop and harness packages", len(c.Shared), len(c.Harness))
	}
	for i, l := range c.Lessons {
		if i > 0 && c.Lessons[i-1].ID >= l.ID {
			t.Errorf("lessons out of order: %s before %s", c.Lessons[i-1].ID, l.ID)
		}
	}
}

// FuzzParse checks that no lesson text, however broken, panics the loader,
// and that every problem comes back with the file's name.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodMD))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\nvariants: [{dir: ../x}]\n---\n"))
	f.Add([]byte("---\r\nid: 01-a\r\n---\r\n# x"))
	f.Fuzz(func(t *testing.T, src []byte) {
		l, errs := Parse("lessons/x/lesson.md", src)
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), "lessons/x/lesson.md") {
				t.Errorf("error without location: %v", err)
			}
		}
		if l == nil && len(errs) == 0 {
			t.Error("Parse returned neither a lesson nor errors")
		}
		if l != nil && l.BodyLine < 2 {
			t.Errorf("BodyLine = %d", l.BodyLine)
		}
	})
}

func FuzzHints(f *testing.F) {
	f.Add([]byte(goodHints))
	f.Add([]byte("## a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		hints, err := ParseHints("h.md", src)
		if err == nil && len(hints) < 3 {
			t.Errorf("accepted %d hints", len(hints))
		}
	})
}

func TestRawHTMLInCodeIsFine(t *testing.T) {
	md := strings.Replace(goodMD, "Text.\n", "Text.\n\n```html\n<details>\n```\n\nThe `<details>` tag, inline.\n", 1)
	if _, err := Load(course(map[string]*string{"01-demo/lesson.md": &md}), "lessons"); err != nil {
		t.Fatalf("HTML inside a code block or inline code was refused: %v", err)
	}
}

// TestReportField reads the front matter's report: left out, it is the
// plain list of checks; "objectives" asks the page for the objectives table.
func TestReportField(t *testing.T) {
	for _, tc := range []struct {
		edit string
		want Report
	}{{"", ReportChecks}, {"report: objectives\n", ReportObjectives}} {
		src := strings.Replace(goodMD, "minutes: 10\n", "minutes: 10\n"+tc.edit, 1)
		l, errs := Parse("lessons/01-demo/lesson.md", []byte(src))
		if len(errs) > 0 || l == nil {
			t.Fatalf("report %q: %v", tc.edit, errs)
		}
		if l.Report != tc.want {
			t.Errorf("front matter %q: Report = %q, want %q", tc.edit, l.Report, tc.want)
		}
	}
}
