// Package lessons is the course as data: it loads and validates the lessons
// (text, hints, starter files, solutions, wrong variants and hidden checks)
// from an [fs.FS], and embeds the course that ships with the tutor.
//
// It knows nothing of how checks run or how pages are drawn. The format is
// described in lessons/README.md.
package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// WorkspaceModule is the module path of the learner's workspace. It equals
// the import path of this directory in the tutor's own module, so that the
// lesson code compiles unchanged in both places: "…/lessons/loop" is the same
// package in the repository and in the workspace.
const WorkspaceModule = "github.com/gotutor/tutor/lessons"

// CheckTag is the build constraint that keeps hidden check files out of the
// tutor module's own build; the checker strips it when it overlays them.
const CheckTag = "//go:build tutorcheck"

// Expectation is what verification demands of a variant.
type Expectation string

// The two expectations.
const (
	MustPass Expectation = "pass"
	MustFail Expectation = "fail"
)

// Report says how the page sums up a lesson's result, above the list of
// checks. It is the front matter's "report" field.
type Report string

// The reports a lesson can ask for.
const (
	// ReportChecks, the default, shows the list of checks alone.
	ReportChecks Report = ""
	// ReportObjectives adds a table with one row per check, read as a
	// service-level objective: objective, target, measured, met.
	ReportObjectives Report = "objectives"
)

// Variant is one complete version of the learner's files: the starter, the
// reference solution, an alternative solution or a wrong one.
type Variant struct {
	Name    string            // directory name: "starter", "solution", "alt-…", "wrong-…"
	Expect  Expectation       // pass or fail
	Failing []string          // for MustFail: checks that must fail (test names without "Test")
	Why     string            // one line: what this variant gets wrong or right
	Files   map[string][]byte // file name (as in Lesson.Files) → content
}

// Lesson is one loaded and validated lesson.
type Lesson struct {
	ID      string        // "02-event-loop"
	Number  string        // "02"
	Title   string        // "One loop, one thing at a time"
	Module  string        // module title, e.g. "Sync vs async handling"
	Summary string        // one sentence
	Minutes int           // expected time to complete
	Files   []string      // files the learner edits, relative to the lesson directory
	Timeout time.Duration // the checker's time limit for the test run
	Race    bool          // run the checks with the race detector where it works
	Unix    bool          // the checks need a Unix system (process groups, signals)
	Report  Report        // how the page sums up a result: "" or ReportObjectives
	Path    string        // "lessons/02-event-loop/lesson.md", for messages

	Body     []byte            // the lesson text: markdown after the front matter
	BodyLine int               // line of Body's first line in lesson.md
	Hints    []Hint            // progressive hints, at least three
	Checks   map[string][]byte // hidden test files, name → content (constraint kept)
	Variants []Variant         // starter first, then solution, then the rest

	keyLines map[string]int // front-matter key → line in lesson.md, for errors
}

// Hint is one progressive hint.
type Hint struct {
	Title string
	Body  []byte // markdown
}

// Variant returns the named variant, or nil.
func (l *Lesson) Variant(name string) *Variant {
	for i := range l.Variants {
		if l.Variants[i].Name == name {
			return &l.Variants[i]
		}
	}
	return nil
}

// Starter returns the starter variant.
func (l *Lesson) Starter() *Variant { return l.Variant("starter") }

// Solution returns the reference solution.
func (l *Lesson) Solution() *Variant { return l.Variant("solution") }

// Package returns the Go package name of the lesson's files.
func (l *Lesson) Package() string {
	if s := l.Starter(); s != nil {
		for _, name := range l.Files {
			if p := packageName(s.Files[name]); p != "" {
				return p
			}
		}
	}
	return ""
}

// Course is the loaded course.
type Course struct {
	Lessons []*Lesson
	// Shared holds the files every workspace gets besides the lessons
	// (the loop package), path → content.
	Shared map[string][]byte
	// Harness holds the harness package's files, name → content; the checker
	// overlays them into the workspace as the package "harness".
	Harness map[string][]byte
}

// Lesson finds a lesson by its full ID ("02-event-loop") or its number
// ("02", "2"). The error lists the valid IDs.
func (c *Course) Lesson(id string) (*Lesson, error) {
	for _, l := range c.Lessons {
		if l.ID == id || l.Number == id {
			return l, nil
		}
		if n, err := strconv.Atoi(id); err == nil && fmt.Sprintf("%02d", n) == l.Number {
			return l, nil
		}
	}
	ids := make([]string, len(c.Lessons))
	for i, l := range c.Lessons {
		ids[i] = l.ID
	}
	return nil, fmt.Errorf("unknown lesson %q (valid: %s, or just the number)", id, strings.Join(ids, ", "))
}

// Modules returns the module titles in course order.
func (c *Course) Modules() []string {
	var out []string
	for _, l := range c.Lessons {
		if !slices.Contains(out, l.Module) {
			out = append(out, l.Module)
		}
	}
	return out
}

// frontMatter is lesson.md's YAML header.
type frontMatter struct {
	ID       string          `yaml:"id"`
	Title    string          `yaml:"title"`
	Module   string          `yaml:"module"`
	Summary  string          `yaml:"summary"`
	Minutes  int             `yaml:"minutes"`
	Files    []string        `yaml:"files"`
	Timeout  string          `yaml:"timeout"`
	Race     bool            `yaml:"race"`
	Unix     bool            `yaml:"unix"`
	Report   string          `yaml:"report"`
	Variants []variantHeader `yaml:"variants"`
	Extra    map[string]any  `yaml:",inline"`
}

type variantHeader struct {
	Dir     string   `yaml:"dir"`
	Expect  string   `yaml:"expect"`
	Failing []string `yaml:"failing"`
	Why     string   `yaml:"why"`
}

// Error is a problem in a lesson file, with its location.
type Error struct {
	Path string // "lessons/02-event-loop/lesson.md"
	Line int    // 1-based; 0 if unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

var lessonDir = regexp.MustCompile(`^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$`)

// Load reads the course from fsys, whose root holds the lesson directories
// ("01-measure", …), the loop package and the harness package. prefix is
// prepended to paths in error messages ("lessons" gives
// "lessons/02-event-loop/lesson.md:1: …"). All problems found are returned,
// joined, each with its location.
func Load(fsys fs.FS, prefix string) (*Course, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read course: %w", err)
	}
	c := &Course{Shared: map[string][]byte{}, Harness: map[string][]byte{}}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !lessonDir.MatchString(e.Name()) {
			continue
		}
		l, lerrs := loadLesson(fsys, prefix, e.Name())
		errs = append(errs, lerrs...)
		if l != nil {
			c.Lessons = append(c.Lessons, l)
		}
	}
	if len(c.Lessons) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Path: prefix, Msg: "no lessons found (directories named NN-slug)"})
	}
	if err := readTree(fsys, "loop", func(name string, b []byte) { c.Shared[path.Join("loop", name)] = b }); err != nil {
		errs = append(errs, &Error{Path: path.Join(prefix, "loop"), Msg: err.Error()})
	}
	if err := readTree(fsys, "harness", func(name string, b []byte) {
		if !strings.HasSuffix(name, "_test.go") {
			c.Harness[name] = b
		}
	}); err != nil {
		errs = append(errs, &Error{Path: path.Join(prefix, "harness"), Msg: err.Error()})
	}
	seen := map[string]string{}
	for _, l := range c.Lessons {
		if other, ok := seen[l.Number]; ok {
			errs = append(errs, &Error{Path: l.Path, Line: 1, Msg: fmt.Sprintf("lesson number %s is also used by %s", l.Number, other)})
		}
		seen[l.Number] = l.ID
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// readTree calls fn for every regular file under dir (names relative to dir).
func readTree(fsys fs.FS, dir string, fn func(name string, b []byte)) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fn(strings.TrimPrefix(p, dir+"/"), b)
		return nil
	})
}

func loadLesson(fsys fs.FS, prefix, dir string) (*Lesson, []error) {
	mdPath := path.Join(prefix, dir, "lesson.md")
	fail := func(line int, format string, args ...any) error {
		return &Error{Path: mdPath, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	src, err := fs.ReadFile(fsys, path.Join(dir, "lesson.md"))
	if err != nil {
		return nil, []error{fail(0, "missing lesson text (lesson.md)")}
	}
	l, errs := Parse(mdPath, src)
	if l == nil {
		return nil, errs
	}
	if l.ID != dir {
		errs = append(errs, fail(l.lineOf("id"), "front matter: id %q does not match the directory %q", l.ID, dir))
	}
	l.Number = dir[:2]

	hintPath := path.Join(prefix, dir, "hints.md")
	if hb, err := fs.ReadFile(fsys, path.Join(dir, "hints.md")); err != nil {
		errs = append(errs, &Error{Path: hintPath, Msg: "missing hints file (hints.md)"})
	} else {
		hints, err := ParseHints(hintPath, hb)
		if err != nil {
			errs = append(errs, err)
		}
		l.Hints = hints
	}

	l.Checks = map[string][]byte{}
	checkDir := path.Join(dir, "check")
	if ents, err := fs.ReadDir(fsys, checkDir); err != nil {
		errs = append(errs, &Error{Path: path.Join(prefix, checkDir), Msg: "missing hidden checks (check/*_test.go)"})
	} else {
		for _, e := range ents {
			p := path.Join(prefix, checkDir, e.Name())
			if e.IsDir() || !strings.HasSuffix(e.Name(), "_test.go") {
				errs = append(errs, &Error{Path: p, Msg: "unexpected file: check/ holds only *_test.go files"})
				continue
			}
			b, _ := fs.ReadFile(fsys, path.Join(checkDir, e.Name()))
			if !bytes.HasPrefix(b, []byte(CheckTag+"\n")) {
				errs = append(errs, &Error{Path: p, Line: 1, Msg: fmt.Sprintf("hidden check must start with %q", CheckTag)})
			}
			l.Checks[e.Name()] = b
		}
		if len(l.Checks) == 0 && err == nil {
			errs = append(errs, &Error{Path: path.Join(prefix, checkDir), Msg: "no hidden checks (check/*_test.go)"})
		}
	}

	known := map[string]bool{"check": true}
	for i := range l.Variants {
		v := &l.Variants[i]
		known[v.Name] = true
		v.Files = map[string][]byte{}
		for _, f := range l.Files {
			b, err := fs.ReadFile(fsys, path.Join(dir, v.Name, f))
			if err != nil {
				errs = append(errs, &Error{Path: path.Join(prefix, dir, v.Name, f), Msg: fmt.Sprintf("missing: variant %q must provide every file in \"files\"", v.Name)})
				continue
			}
			v.Files[f] = b
		}
		if ents, err := fs.ReadDir(fsys, path.Join(dir, v.Name)); err == nil {
			for _, e := range ents {
				if !slices.Contains(l.Files, e.Name()) {
					errs = append(errs, &Error{Path: path.Join(prefix, dir, v.Name, e.Name()), Msg: fmt.Sprintf("not listed in lesson.md \"files\" (%s)", strings.Join(l.Files, ", "))})
				}
			}
		}
	}
	if ents, err := fs.ReadDir(fsys, dir); err == nil {
		for _, e := range ents {
			if e.IsDir() && !known[e.Name()] {
				errs = append(errs, fail(l.lineOf("variants"), "directory %s/ is not declared in front matter \"variants\"", e.Name()))
			}
		}
	}
	if p := l.Package(); p != "" {
		for _, v := range l.Variants {
			for f, b := range v.Files {
				if got := packageName(b); got != p {
					errs = append(errs, &Error{Path: path.Join(prefix, dir, v.Name, f), Msg: fmt.Sprintf("package %s, but the starter is package %s", got, p)})
				}
			}
		}
		for f, b := range l.Checks {
			src := bytes.TrimPrefix(b, []byte(CheckTag+"\n"))
			if got := packageName(src); got != p {
				errs = append(errs, &Error{Path: path.Join(prefix, checkDir, f), Msg: fmt.Sprintf("package %s, but the lesson's files are package %s", got, p)})
			}
		}
	}
	return l, errs
}

// Parse parses lesson.md: YAML front matter between "---" lines, then the
// markdown body. It validates the front matter fields; path is used in errors.
// It returns nil and the errors when the front matter cannot be read at all.
func Parse(file string, src []byte) (*Lesson, []error) {
	fail := func(line int, format string, args ...any) error {
		return &Error{Path: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(src, []byte("---\n")) {
		return nil, []error{fail(1, "front matter: the file must start with a \"---\" line")}
	}
	rest := src[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	var head []byte
	var body []byte
	switch {
	case bytes.HasPrefix(rest, []byte("---\n")):
		head, body = nil, rest[4:]
	case end >= 0:
		head, body = rest[:end+1], rest[end+5:]
	case bytes.HasSuffix(rest, []byte("\n---")):
		head, body = rest[:len(rest)-3], nil
	default:
		return nil, []error{fail(1, "front matter: no closing \"---\" line")}
	}
	bodyLine := 2 + bytes.Count(head, []byte("\n")) + 1

	var fm frontMatter
	var node yaml.Node
	if err := yaml.Unmarshal(head, &node); err != nil {
		return nil, []error{fail(1+yamlLine(err), "front matter: %s", yamlMsg(err))}
	}
	if err := node.Decode(&fm); err != nil {
		return nil, []error{fail(1+yamlLine(err), "front matter: %s", yamlMsg(err))}
	}
	l := &Lesson{
		ID: fm.ID, Title: fm.Title, Module: fm.Module, Summary: fm.Summary, Minutes: fm.Minutes,
		Files: fm.Files, Race: fm.Race, Unix: fm.Unix, Report: Report(fm.Report), Path: file, Body: body, BodyLine: bodyLine,
		keyLines: keyLines(&node),
	}
	var errs []error
	errs = append(errs, rawHTML(body, bodyLine, fail)...)
	for _, k := range slices.Sorted(maps.Keys(fm.Extra)) {
		errs = append(errs, fail(l.lineOf(k), "front matter: unknown field %q (known: id, title, module, summary, minutes, files, timeout, race, unix, report, variants)", k))
	}
	if l.Report != ReportChecks && l.Report != ReportObjectives {
		errs = append(errs, fail(l.lineOf("report"), "front matter: report %q is not known (leave it out, or write %q)", fm.Report, ReportObjectives))
	}
	for _, f := range []struct {
		name  string
		empty bool
	}{{"id", fm.ID == ""}, {"title", fm.Title == ""}, {"module", fm.Module == ""}, {"summary", fm.Summary == ""}, {"files", len(fm.Files) == 0}, {"timeout", fm.Timeout == ""}, {"variants", len(fm.Variants) == 0}} {
		if f.empty {
			errs = append(errs, fail(1, "front matter: missing %q", f.name))
		}
	}
	if fm.ID != "" && !lessonDir.MatchString(fm.ID) {
		errs = append(errs, fail(l.lineOf("id"), "front matter: id %q must look like NN-slug (two digits, lowercase words joined by -)", fm.ID))
	}
	if fm.Minutes <= 0 || fm.Minutes > 120 {
		errs = append(errs, fail(l.lineOf("minutes"), "front matter: minutes must be between 1 and 120, got %d", fm.Minutes))
	}
	if fm.Timeout != "" {
		d, err := time.ParseDuration(fm.Timeout)
		switch {
		case err != nil:
			errs = append(errs, fail(l.lineOf("timeout"), "front matter: timeout %q is not a duration like \"20s\"", fm.Timeout))
		case d < time.Second || d > 5*time.Minute:
			errs = append(errs, fail(l.lineOf("timeout"), "front matter: timeout %s must be between 1s and 5m", d))
		default:
			l.Timeout = d
		}
	}
	for _, f := range fm.Files {
		if f != path.Clean(f) || strings.Contains(f, "/") || !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			errs = append(errs, fail(l.lineOf("files"), "front matter: file %q must be a plain .go file name in the lesson directory (not a test)", f))
		}
	}
	names := map[string]bool{}
	for _, vh := range fm.Variants {
		line := l.lineOf("variants")
		v := Variant{Name: vh.Dir, Expect: Expectation(vh.Expect), Failing: vh.Failing, Why: vh.Why}
		switch {
		case vh.Dir == "" || strings.ContainsAny(vh.Dir, "/\\. ") || vh.Dir == "check":
			errs = append(errs, fail(line, "front matter: variant dir %q must be a plain directory name other than \"check\"", vh.Dir))
			continue
		case names[vh.Dir]:
			errs = append(errs, fail(line, "front matter: variant %q declared twice", vh.Dir))
			continue
		case v.Expect != MustPass && v.Expect != MustFail:
			errs = append(errs, fail(line, "front matter: variant %q: expect must be \"pass\" or \"fail\", got %q", vh.Dir, vh.Expect))
		case v.Expect == MustFail && len(v.Failing) == 0:
			errs = append(errs, fail(line, "front matter: variant %q: a failing variant must name the checks that must fail (\"failing\")", vh.Dir))
		case v.Expect == MustPass && len(v.Failing) > 0:
			errs = append(errs, fail(line, "front matter: variant %q: a passing variant cannot list failing checks", vh.Dir))
		}
		names[vh.Dir] = true
		l.Variants = append(l.Variants, v)
	}
	if len(fm.Variants) > 0 {
		var fails, passes int
		for _, v := range l.Variants {
			if v.Expect == MustFail {
				fails++
			} else {
				passes++
			}
		}
		if s := l.Starter(); s == nil || s.Expect != MustFail {
			errs = append(errs, fail(l.lineOf("variants"), "front matter: variants must include \"starter\" with expect: fail"))
		}
		if s := l.Solution(); s == nil || s.Expect != MustPass {
			errs = append(errs, fail(l.lineOf("variants"), "front matter: variants must include \"solution\" with expect: pass"))
		}
		if fails < 3 {
			errs = append(errs, fail(l.lineOf("variants"), "front matter: need the starter and at least two more wrong variants, found %d failing variants", fails))
		}
		if passes < 2 {
			errs = append(errs, fail(l.lineOf("variants"), "front matter: need the solution and at least one alternative correct solution, found %d passing variants", passes))
		}
		// Order: starter, solution, then as declared.
		slices.SortStableFunc(l.Variants, func(a, b Variant) int { return variantRank(a.Name) - variantRank(b.Name) })
	}
	return l, errs
}

func variantRank(name string) int {
	switch name {
	case "starter":
		return 0
	case "solution":
		return 1
	}
	return 2
}

// ParseHints splits hints.md into hints: each "## " heading starts one.
func ParseHints(file string, src []byte) ([]Hint, error) {
	var hints []Hint
	var cur *Hint
	for i, line := range strings.SplitAfter(string(src), "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			hints = append(hints, Hint{Title: strings.TrimSpace(title)})
			cur = &hints[len(hints)-1]
			continue
		}
		if cur == nil {
			if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "# ") {
				return nil, &Error{Path: file, Line: i + 1, Msg: "text before the first hint: each hint starts with a \"## \" heading"}
			}
			continue
		}
		cur.Body = append(cur.Body, line...)
	}
	for i := range hints {
		hints[i].Body = bytes.TrimSpace(hints[i].Body)
		if len(hints[i].Body) == 0 {
			return nil, &Error{Path: file, Msg: fmt.Sprintf("hint %d (%q) is empty", i+1, hints[i].Title)}
		}
	}
	if len(hints) < 3 {
		return nil, &Error{Path: file, Line: 1, Msg: fmt.Sprintf("need at least three progressive hints (\"## \" headings), found %d", len(hints))}
	}
	return hints, nil
}

// packageName returns the name in src's package clause, "" when src has none
// that parses. Only the clause is parsed, so a file whose body does not
// compile still has a name.
func packageName(src []byte) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
	if err != nil {
		return ""
	}
	return f.Name.Name
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): `)

// yamlLine returns the 1-based line in the front matter that a yaml error
// names, plus one for the opening "---" line; 0 if it names none.
func yamlLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	// yaml.v3 reports parser errors ("did not find expected …") with the
	// 0-based line of their context, and everything else 1-based.
	if strings.Contains(err.Error(), "did not find expected") {
		n++
	}
	return n
}

func yamlMsg(err error) string {
	return yamlLineRE.ReplaceAllString(strings.TrimSpace(err.Error()), "")
}

// keyLines maps each top-level front-matter key to its line in lesson.md.
func keyLines(doc *yaml.Node) map[string]int {
	out := map[string]int{}
	if doc == nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return out
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		out[m.Content[i].Value] = m.Content[i].Line + 1
	}
	return out
}

func (l *Lesson) lineOf(key string) int {
	if n, ok := l.keyLines[key]; ok {
		return n
	}
	return 1
}

// rawHTMLRE matches the block-level HTML tags lesson authors reach for. The
// page renders markdown without raw HTML (a lesson cannot inject markup),
// so such a tag would silently vanish: <details> would not fold anything.
var rawHTMLRE = regexp.MustCompile(`(?i)^\s*</?(details|summary|div|span|table|br|p|img|script|style)\b`)

// rawHTML reports every line of body that starts with a raw HTML tag,
// outside fenced code blocks.
func rawHTML(body []byte, bodyLine int, fail func(int, string, ...any) error) []error {
	var errs []error
	fence := ""
	for i, line := range strings.Split(string(body), "\n") {
		t := strings.TrimSpace(line)
		if fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			fence = t[:3]
			continue
		}
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if rawHTMLRE.MatchString(line) {
			errs = append(errs, fail(bodyLine+i, "raw HTML %q is not rendered (the page drops raw HTML); use markdown, e.g. a \"### \" heading instead of <details>", t))
		}
	}
	return errs
}
