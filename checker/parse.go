package checker

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// locator maps what the go command and the test binary print back to the
// learner's files, and hides the paths of the hidden checks.
type locator struct {
	job    Job
	root   string            // the workspace root
	backed map[string]string // overlay backing path → the virtual path it stands for
	// sources caches parsed learner files, for placing frames.
	sources map[string]*sourceFile
}

// errLine matches a compiler diagnostic: "path/file.go:12:3: message".
var errLine = regexp.MustCompile(`^(.+?\.go):(\d+)(?::(\d+))?: (.*)$`)

// compileErrors turns build output into errors located in workspace files.
// An error in a hidden file means the learner's code no longer provides what
// the checks call; it is reported against the learner's first file without
// ever naming the hidden file.
func (ex *locator) compileErrors(buildOut []string) []CompileError {
	var out []CompileError
	for _, block := range buildOut {
		for _, line := range strings.Split(block, "\n") {
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			m := errLine.FindStringSubmatch(line)
			if m == nil {
				if n := len(out); n > 0 && strings.HasPrefix(line, "\t") {
					out[n-1].Message += "\n" + strings.TrimSpace(ex.scrub(line))
				} else if !strings.HasPrefix(line, "FAIL") {
					out = append(out, CompileError{Message: ex.scrub(strings.TrimSpace(line))})
				}
				continue
			}
			ln, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			msg := ex.scrub(m[4])
			if file, ok := ex.workspaceFile(m[1]); ok {
				out = append(out, CompileError{File: file, Line: ln, Column: col, Message: msg})
				continue
			}
			// In a hidden check or the harness: the learner's code changed
			// a name or signature the lesson asks for.
			out = append(out, CompileError{
				File:    ex.primaryFile(),
				Message: "the checks cannot use your code: " + msg + " (keep the names and signatures the lesson asks for)",
			})
		}
	}
	return dedupe(out)
}

func dedupe(in []CompileError) []CompileError {
	var out []CompileError
	for _, e := range in {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// primaryFile is the learner's first file, relative to the workspace.
func (ex *locator) primaryFile() string {
	if len(ex.job.Files) == 0 {
		return filepath.ToSlash(ex.job.Dir)
	}
	return filepath.ToSlash(filepath.Join(ex.job.Dir, ex.job.Files[0]))
}

// workspaceFile maps a path printed by the go command to a workspace-relative
// path, and reports false for hidden files and files outside the workspace.
func (ex *locator) workspaceFile(p string) (string, bool) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(ex.root, p)
	}
	abs = filepath.Clean(abs)
	if v, ok := ex.virtual(p); ok {
		abs = v
	}
	if strings.HasPrefix(filepath.Base(abs), "zz_tutor_") {
		return "", false
	}
	rel, err := filepath.Rel(ex.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	if strings.HasPrefix(filepath.ToSlash(rel), "harness/") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// virtual maps a path the go command printed for an overlay backing file
// (absolute, relative, or with its directory prefix mangled) to the path it
// stands for.
func (ex *locator) virtual(printed string) (string, bool) {
	clean := filepath.Clean(printed)
	if !filepath.IsAbs(clean) {
		if v, ok := ex.backed[filepath.Join(ex.root, clean)]; ok {
			return v, true
		}
	}
	if v, ok := ex.backed[clean]; ok {
		return v, true
	}
	// The backing files live in directories named by a content hash, so a
	// match on "<hash>/<name>" is exact enough.
	tail := filepath.Join(filepath.Base(filepath.Dir(clean)), filepath.Base(clean))
	for backing, v := range ex.backed {
		if strings.HasSuffix(backing, string(filepath.Separator)+tail) {
			return v, true
		}
	}
	return "", false
}

// scrub rewrites any path of a hidden file to a neutral name and makes
// workspace paths relative, so no output reveals where the checks live.
func (ex *locator) scrub(s string) string {
	for backing, virtual := range ex.backed {
		name := "(hidden check)"
		if !strings.HasPrefix(filepath.Base(virtual), "zz_tutor_") && !strings.Contains(virtual, string(filepath.Separator)+"harness"+string(filepath.Separator)) {
			name = virtual
		}
		s = strings.ReplaceAll(s, backing, name)
	}
	s = hiddenPathRE.ReplaceAllString(s, "(hidden check)")
	if ex.root != "" {
		s = strings.ReplaceAll(s, ex.root+string(filepath.Separator), "")
	}
	return s
}

// hiddenPathRE catches the shortened forms the go command prints for
// overlay backing files (".h/x_test.go", "../../files/ab12/x_test.go").
var hiddenPathRE = regexp.MustCompile(`\S*zz_tutor_[A-Za-z0-9_]+\.go\b|\S*/files/[0-9a-f]{16}/\S+\.go\b`)

// frameRE matches a stack frame: the function line, then its location line
// "\t/abs/file.go:12 +0x1d".
var frameRE = regexp.MustCompile(`(?m)^(\S[^\n]*)\n\s+(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?$`)

// learnerFrames returns the frames in the lesson's own files, outermost
// last. A frame whose line lies outside the function it names (the compiler
// gives the back edge of a loop with an empty body line 1) is moved to that
// function's endless loop, or its first line.
func (ex *locator) learnerFrames(stack string) []frame {
	var out []frame
	for _, m := range frameRE.FindAllStringSubmatch(stack, -1) {
		rel, ok := ex.lessonFile(m[2])
		if !ok {
			continue
		}
		ln, _ := strconv.Atoi(m[3])
		out = append(out, frame{rel, ex.placeLine(rel, funcOfFrame(m[1]), ln)})
	}
	return out
}

type frame struct {
	file string
	line int
}

func (f frame) String() string { return fmt.Sprintf("%s:%d", f.file, f.line) }

// panicInfo extracts the panic message and the learner's frame.
func (ex *locator) panicInfo(raw string) *Panic {
	// The runtime's panic is the last one at the start of a line: text the
	// learner's code printed before it may contain "panic: " too.
	i := strings.LastIndex(raw, "\npanic: ") + 1
	if i == 0 && !strings.HasPrefix(raw, "panic: ") {
		i = -1
	}
	p := &Panic{Message: "unknown panic"}
	if i < 0 {
		return p
	}
	rest := raw[i+len("panic: "):]
	msg, stack, _ := strings.Cut(rest, "\n")
	msg = strings.TrimSuffix(msg, " [recovered, repanicked]")
	msg = strings.TrimSuffix(msg, " [recovered]")
	p.Message = ex.scrub(strings.TrimSpace(msg))
	if fr := ex.learnerFrames(stack); len(fr) > 0 {
		p.File, p.Line = fr[0].file, fr[0].line
	}
	return p
}

// goroutineRE matches a goroutine header in a stack dump.
var goroutineRE = regexp.MustCompile(`(?m)^goroutine \d+ \[([^\],]+)[^\]]*\]:$`)

// blocked summarises, from a timeout's goroutine dump, where the learner's
// goroutines were waiting: "ping.go:14 (sync.Mutex.Lock) ×3". Places where
// the learner's own code waits (a channel send, a Lock, a Wait: only the
// standard library between the wait and the learner's line) come first;
// then places waiting inside other code the learner called (the lesson's
// server package, a dependency the check passed in), which are more often
// the symptom than the cause.
func (ex *locator) blocked(raw string) []string {
	idx := goroutineRE.FindAllStringSubmatchIndex(raw, -1)
	counts := map[string]int{}
	var direct, indirect []string
	for k, m := range idx {
		end := len(raw)
		if k+1 < len(idx) {
			end = idx[k+1][0]
		}
		state := raw[m[2]:m[3]]
		stack := raw[m[1]:end]
		fr := ex.learnerFrames(stack)
		if len(fr) == 0 {
			continue
		}
		key := fmt.Sprintf("%s (%s)", fr[0], state)
		if counts[key] == 0 {
			if ex.waitsInLearnerCode(stack) {
				direct = append(direct, key)
			} else {
				indirect = append(indirect, key)
			}
		}
		counts[key]++
	}
	order := append(direct, indirect...)
	var out []string
	for _, k := range order {
		if counts[k] > 1 {
			k = fmt.Sprintf("%s ×%d", k, counts[k])
		}
		out = append(out, k)
		if len(out) == 5 {
			break
		}
	}
	return out
}

// waitsInLearnerCode reports whether the innermost frame of stack outside
// the standard library is in the lesson's own files.
func (ex *locator) waitsInLearnerCode(stack string) bool {
	for _, m := range frameRE.FindAllStringSubmatch(stack, -1) {
		if standardLibrary(m[1]) {
			continue
		}
		_, ok := ex.lessonFile(m[2])
		return ok
	}
	return false
}

// lessonFile is workspaceFile for the lesson's own files only.
func (ex *locator) lessonFile(p string) (string, bool) {
	rel, ok := ex.workspaceFile(p)
	if !ok || !strings.HasPrefix(rel, filepath.ToSlash(ex.job.Dir)+"/") {
		return "", false
	}
	return rel, true
}

// standardLibrary reports whether a stack frame's function line names a
// function of the standard library: its import path has no dot in its
// first element ("sync.(*Mutex).Lock(...)", "net/http.(*conn).serve").
func standardLibrary(fn string) bool {
	fn = strings.TrimPrefix(fn, "created by ")
	first, _, slash := strings.Cut(fn, "/")
	if !slash {
		return true // a one-element path: "runtime.gopark(...)", "sync.(*Mutex).Lock(...)"
	}
	return !strings.Contains(first, ".")
}

// raceFrames returns the learner's locations of the first race report.
func (ex *locator) raceFrames(raw string) []string {
	i := strings.Index(raw, "WARNING: DATA RACE")
	if i < 0 {
		return nil
	}
	report := raw[i:]
	if j := strings.Index(report, "=================="); j > 0 {
		report = report[:j]
	}
	var out []string
	for _, f := range ex.learnerFrames(report) {
		if s := f.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
		if len(out) == 2 {
			break
		}
	}
	return out
}

// funcOfFrame returns the declared function a stack frame's function line
// belongs to: "eventloop.Ping.func1(...)" → "Ping",
// "eventloop.(*Server).Run(0x1)" → "Run", "created by eventloop.Ping in
// goroutine 7" → "Ping".
func funcOfFrame(line string) string {
	line = strings.TrimPrefix(line, "created by ")
	if i := strings.Index(line, " in goroutine"); i >= 0 {
		line = line[:i]
	}
	if i := strings.IndexByte(line, '('); i > 0 && !strings.HasSuffix(line[:i], ".") {
		line = line[:i] // the argument list
	}
	if i := strings.LastIndexByte(line, '/'); i >= 0 {
		line = line[i+1:]
	}
	_, rest, ok := strings.Cut(line, ".") // the package name
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, "(") { // a method with a pointer receiver
		if _, m, ok := strings.Cut(rest, ")."); ok {
			rest = m
		}
	}
	rest, _, _ = strings.Cut(rest, "(") // the argument list
	parts := strings.Split(rest, ".")
	if len(parts) >= 2 && !isClosure(parts[1]) {
		return parts[1] // T.Method
	}
	return parts[0]
}

func isClosure(s string) bool {
	return strings.HasPrefix(s, "func") || strings.HasPrefix(s, "gowrap") || strings.HasPrefix(s, "deferwrap")
}

// sourceFile is a learner file's declared functions, by name.
type sourceFile struct {
	funcs map[string][]funcSpan
}

// funcSpan is one function's lines and the lines of its endless loops.
type funcSpan struct {
	from, to int
	loops    []int // lines of `for {` statements without a condition
}

// placeLine returns line if it lies inside the function fn of the learner
// file rel; otherwise the line of fn's first endless loop, else fn's first
// line, else line unchanged.
func (ex *locator) placeLine(rel, fn string, line int) int {
	sf := ex.source(rel)
	if sf == nil || fn == "" {
		return line
	}
	spans := sf.funcs[fn]
	for _, sp := range spans {
		if line >= sp.from && line <= sp.to {
			return line
		}
	}
	for _, sp := range spans {
		if len(sp.loops) > 0 {
			return sp.loops[0]
		}
	}
	if len(spans) > 0 {
		return spans[0].from
	}
	return line
}

// source parses a learner file (its replacement content, if the job has
// one), once per run.
func (ex *locator) source(rel string) *sourceFile {
	if sf, ok := ex.sources[rel]; ok {
		return sf
	}
	if ex.sources == nil {
		ex.sources = map[string]*sourceFile{}
	}
	ex.sources[rel] = nil
	var src []byte
	if filepath.ToSlash(filepath.Dir(rel)) == filepath.ToSlash(ex.job.Dir) {
		src = ex.job.Replace[filepath.Base(rel)]
	}
	if src == nil {
		b, err := os.ReadFile(filepath.Join(ex.root, filepath.FromSlash(rel)))
		if err != nil {
			return nil
		}
		src = b
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	sf := &sourceFile{funcs: map[string][]funcSpan{}}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		sp := funcSpan{from: fset.Position(fd.Pos()).Line, to: fset.Position(fd.End()).Line}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if fs, ok := n.(*ast.ForStmt); ok && fs.Cond == nil {
				sp.loops = append(sp.loops, fset.Position(fs.Pos()).Line)
			}
			return true
		})
		sf.funcs[fd.Name.Name] = append(sf.funcs[fd.Name.Name], sp)
	}
	ex.sources[rel] = sf
	return sf
}
