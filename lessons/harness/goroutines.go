package harness

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
)

// Goroutine is one goroutine seen in a dump of every goroutine in the
// process, as [LiveGoroutines] returns it.
type Goroutine struct {
	ID        int      // the runtime's goroutine number
	State     string   // "running", "chan send", "select", "sleep", …
	Funcs     []string // the functions on its stack, innermost first, e.g. "example.com/pkg.(*T).Method"
	CreatedBy string   // the function that started it ("" for the main goroutine)
}

// Has reports whether any function on g's stack, or the function that
// started g, satisfies match.
func (g Goroutine) Has(match func(fn string) bool) bool {
	if g.CreatedBy != "" && match(g.CreatedBy) {
		return true
	}
	for _, f := range g.Funcs {
		if match(f) {
			return true
		}
	}
	return false
}

// LiveGoroutines returns every goroutine of the process except the
// caller's own. Checks use it to count goroutines that are still running
// some code after they should have ended: it names them exactly, where
// [runtime.NumGoroutine] also counts the test server's and the client's.
func LiveGoroutines() []Goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	blocks := bytes.Split(buf, []byte("\n\n"))
	var out []Goroutine
	for i, b := range blocks {
		if i == 0 {
			continue // the first goroutine in the dump is the caller
		}
		if g, ok := parseGoroutine(string(b)); ok {
			out = append(out, g)
		}
	}
	return out
}

// parseGoroutine reads one block of runtime.Stack's output:
//
//	goroutine 7 [chan send]:
//	main.main.func1()
//		/tmp/main.go:3 +0x1e
//	created by main.main in goroutine 1
//		/tmp/main.go:3 +0x66
func parseGoroutine(block string) (Goroutine, bool) {
	lines := strings.Split(strings.TrimSpace(block), "\n")
	head, ok := strings.CutPrefix(lines[0], "goroutine ")
	if !ok {
		return Goroutine{}, false
	}
	idText, rest, _ := strings.Cut(head, " ")
	id, err := strconv.Atoi(idText)
	if err != nil {
		return Goroutine{}, false
	}
	g := Goroutine{ID: id}
	if open, close := strings.Index(rest, "["), strings.Index(rest, "]"); open >= 0 && close > open {
		g.State, _, _ = strings.Cut(rest[open+1:close], ",")
	}
	for _, l := range lines[1:] {
		if l == "" || l[0] == '\t' {
			continue // a file:line
		}
		if by, ok := strings.CutPrefix(l, "created by "); ok {
			by, _, _ = strings.Cut(by, " in goroutine ")
			g.CreatedBy = by
			continue
		}
		if i := strings.LastIndex(l, "("); i > 0 && strings.HasSuffix(l, ")") {
			l = l[:i]
		}
		g.Funcs = append(g.Funcs, l)
	}
	return g, true
}
