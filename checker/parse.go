package checker

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// errLine matches a compiler diagnostic: "path/file.go:12:3: message".
var errLine = regexp.MustCompile(`^(.+?\.go):(\d+)(?::(\d+))?: (.*)$`)

// compileErrors turns build output into errors located in workspace files.
// An error in a hidden file means the learner's code no longer provides what
// the checks call; it is reported against the learner's first file without
// ever naming the hidden file.
func (ex *execution) compileErrors() []CompileError {
	var out []CompileError
	for _, block := range ex.buildOut {
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
func (ex *execution) primaryFile() string {
	if len(ex.job.Files) == 0 {
		return filepath.ToSlash(ex.job.Dir)
	}
	return filepath.ToSlash(filepath.Join(ex.job.Dir, ex.job.Files[0]))
}

// workspaceFile maps a path printed by the go command to a workspace-relative
// path, and reports false for hidden files and files outside the workspace.
func (ex *execution) workspaceFile(p string) (string, bool) {
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
func (ex *execution) virtual(printed string) (string, bool) {
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
func (ex *execution) scrub(s string) string {
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

// frameRE matches a stack frame's location line: "\t/abs/file.go:12 +0x1d".
var frameRE = regexp.MustCompile(`(?m)^\s+(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?$`)

// learnerFrame returns the first frame in the lesson's own files.
func (ex *execution) learnerFrames(stack string) []frame {
	var out []frame
	for _, m := range frameRE.FindAllStringSubmatch(stack, -1) {
		rel, ok := ex.workspaceFile(m[1])
		if !ok || !strings.HasPrefix(rel, filepath.ToSlash(ex.job.Dir)+"/") {
			continue
		}
		ln, _ := strconv.Atoi(m[2])
		out = append(out, frame{rel, ln})
	}
	return out
}

type frame struct {
	file string
	line int
}

func (f frame) String() string { return fmt.Sprintf("%s:%d", f.file, f.line) }

// panicInfo extracts the panic message and the learner's frame.
func (ex *execution) panicInfo(raw string) *Panic {
	i := strings.Index(raw, "panic: ")
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
// goroutines were waiting: "ping.go:14 (sync.Mutex.Lock) ×3".
func (ex *execution) blocked(raw string) []string {
	idx := goroutineRE.FindAllStringSubmatchIndex(raw, -1)
	counts := map[string]int{}
	var order []string
	for k, m := range idx {
		end := len(raw)
		if k+1 < len(idx) {
			end = idx[k+1][0]
		}
		state := raw[m[2]:m[3]]
		fr := ex.learnerFrames(raw[m[1]:end])
		if len(fr) == 0 {
			continue
		}
		key := fmt.Sprintf("%s (%s)", fr[0], state)
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
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

// raceFrames returns the learner's locations of the first race report.
func (ex *execution) raceFrames(raw string) []string {
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

var runningRE = regexp.MustCompile(`(?m)^\s+(Test\w+) \(`)

// timedOutTest finds the running test in a "test timed out" report.
func timedOutTest(raw string) string {
	i := strings.Index(raw, "running tests:")
	if i < 0 {
		return ""
	}
	if m := runningRE.FindStringSubmatch(raw[i:]); m != nil {
		return strings.TrimPrefix(m[1], "Test")
	}
	return ""
}
