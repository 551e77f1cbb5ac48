package checker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// This file turns what a test process printed into what the checker needs
// from it, keeping a bounded amount whatever the learner's code prints:
// the learner's own output (the first and the last part, and a count of what
// was dropped between them), the testing package's framing lines, the
// hidden checks' log lines, a race report and a panic or timeout dump.
//
// None of it decides whether a check passed: the learner's code writes to
// the same stream and can print anything, including framing lines. Outcomes
// come from the harness report and the process's exit (see verdict.go);
// this stream is for display and for locating panics and blocked goroutines.

// Caps on what one test process's output keeps.
const (
	headCap   = 4 << 10   // the first bytes of the learner's output
	tailCap   = 4 << 10   // the last bytes of the learner's output
	lineCap   = 4 << 10   // a line longer than this is the learner's output
	dumpCap   = 1 << 20   // a panic or timeout dump
	raceCap   = 64 << 10  // the race detector's first report
	logsCap   = 200       // hidden-check log lines
	framesCap = 200       // framing lines
	buildCap  = 256 << 10 // the build's output
)

// framingMark starts each line the testing package prints for test2json
// (-test.v=test2json): "=== RUN", "--- PASS", "PASS", "FAIL".
const framingMark = '\x16'

// capture receives a test process's output as it is written and keeps a
// bounded, classified part of it. Its memory stays under about
// headCap + 2·tailCap + lineCap + dumpCap + raceCap whatever is written.
type capture struct {
	out     clipped  // the learner's output
	logs    []string // hidden-check log lines: "zz_tutor_x_test.go:12: msg"
	framing []string // framing lines, marker removed: "--- PASS: TestX (0.01s)"
	dump    clipped  // from the first "panic: " or "fatal error: " on
	race    clipped  // from the first "WARNING: DATA RACE" on
	dumping bool
	racing  int // 0 no race seen, 1 inside the first report, 2 after it

	line []byte // the current line, up to lineCap
	long bool   // the current line outgrew lineCap and went to out
}

// Write classifies p; it never fails.
func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		seg := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			seg = p[:i+1]
		}
		p = p[len(seg):]
		if c.dumping {
			c.dump.write(seg)
			continue
		}
		if c.long {
			c.out.write(seg)
		} else if len(c.line)+len(seg) > lineCap {
			c.out.write(c.line)
			c.out.write(seg)
			c.line = c.line[:0]
			c.long = true
		} else {
			c.line = append(c.line, seg...)
		}
		if seg[len(seg)-1] == '\n' {
			if !c.long {
				c.classify(c.line)
			}
			c.line, c.long = c.line[:0], false
		}
	}
	return n, nil
}

// flush classifies a last line that had no newline.
func (c *capture) flush() {
	if len(c.line) > 0 && !c.dumping {
		c.classify(c.line)
	}
	c.line = nil
}

// classify files one complete line (with its newline, if any).
func (c *capture) classify(line []byte) {
	// Learner output without a newline runs into the next line the testing
	// package or the runtime prints: split it off first.
	if i := bytes.IndexByte(line, framingMark); i >= 0 {
		c.out.write(line[:i])
		if len(c.framing) < framesCap {
			c.framing = append(c.framing, strings.TrimSpace(string(line[i+1:])))
		}
		return
	}
	for _, m := range []string{"panic: ", "fatal error: ", "SIGQUIT: quit"} {
		if i := bytes.Index(line, []byte(m)); i >= 0 {
			c.out.write(line[:i])
			c.dumping = true
			// A timeout's dump lists every goroutine; where the learner's
			// were waiting can be anywhere in it, so keep it whole up to
			// dumpCap rather than the output's head and tail.
			c.dump.headMax, c.dump.tailMax = dumpCap, -1
			c.dump.write(line[i:])
			return
		}
	}
	if c.racing == 0 && bytes.HasPrefix(line, []byte("WARNING: DATA RACE")) {
		c.racing = 1
		c.race.headMax, c.race.tailMax = raceCap, -1 // the report's frames, in order
	}
	if c.racing == 1 {
		if bytes.HasPrefix(line, []byte("==================")) {
			c.racing = 2
		} else {
			c.race.write(line)
		}
	}
	if t := bytes.TrimLeft(line, " "); len(t) < len(line) {
		s := strings.TrimSpace(string(t))
		switch {
		case testLogRE.MatchString(s):
			if len(c.logs) < logsCap {
				c.logs = append(c.logs, s)
			}
			return
		case len(c.logs) > 0 && bytes.HasPrefix(line, []byte("        ")):
			// the continuation of a multi-line t.Log
			if len(c.logs) < logsCap {
				c.logs[len(c.logs)-1] += " " + s
			}
			return
		}
	}
	c.out.write(line)
}

// ended reports the framing line the testing package prints when test
// ends: "pass", "fail", "skip", or "" if none was seen. The learner's code
// can print such lines too, so this only refines a pass the report and the
// exit status already established (pass or skip).
func (c *capture) ended(test string) string {
	for _, f := range c.framing {
		for _, a := range []string{"pass", "fail", "skip"} {
			if strings.HasPrefix(f, "--- "+strings.ToUpper(a)+": "+test+" ") {
				return a
			}
		}
	}
	return ""
}

// testLogRE matches a t.Log/t.Error line of a hidden check or the harness:
// "zz_tutor_…_test.go:NN: " or "harness.go:NN: ".
var testLogRE = regexp.MustCompile(`^(zz_tutor_\w+\.go|harness\.go|load\.go|gc\.go):\d+: `)

// clipped keeps the first headCap and the last tailCap bytes written to it
// (or the first n bytes when it has no tail), and counts the rest.
type clipped struct {
	head    []byte
	tail    []byte // up to 2·tailCap; the last tailCap bytes are kept
	dropped int64
	headMax int // 0 → headCap
	tailMax int // 0 → tailCap; < 0 → no tail
}

// Write keeps p as write does; it never fails.
func (c *clipped) Write(p []byte) (int, error) {
	c.write(p)
	return len(p), nil
}

func (c *clipped) write(p []byte) {
	hm := c.headMax
	if hm == 0 {
		hm = headCap
	}
	if room := hm - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return
	}
	tm := c.tailMax
	if tm == 0 {
		tm = tailCap
	}
	if tm < 0 {
		c.dropped += int64(len(p))
		return
	}
	if len(p) >= tm {
		c.dropped += int64(len(c.tail)) + int64(len(p)-tm)
		c.tail = append(c.tail[:0], p[len(p)-tm:]...)
		return
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > 2*tm {
		cut := len(c.tail) - tm
		c.dropped += int64(cut)
		c.tail = append(c.tail[:0], c.tail[cut:]...)
	}
}

// kept returns the tail bytes that are kept.
func (c *clipped) kept() []byte {
	tm := c.tailMax
	if tm == 0 {
		tm = tailCap
	}
	if tm > 0 && len(c.tail) > tm {
		c.dropped += int64(len(c.tail) - tm)
		c.tail = c.tail[len(c.tail)-tm:]
	}
	return c.tail
}

// String returns the kept bytes, with a line in place of the dropped ones.
func (c *clipped) String() string {
	tail := c.kept()
	if c.dropped == 0 {
		return string(c.head) + string(tail)
	}
	return string(c.head) + droppedLine(c.dropped) + string(tail)
}

// total is how many bytes were written.
func (c *clipped) total() int64 {
	return int64(len(c.head)) + int64(len(c.kept())) + c.dropped
}

func droppedLine(n int64) string {
	return fmt.Sprintf("\n… %s of output not kept …\n", byteCount(n))
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// buildEvent is one line of `go test -c -json`: only build events carry
// anything the checker needs.
type buildEvent struct {
	Action string
	Output string
}

// buildOutput splits the build's output into its messages: the compiler's
// build-output events and, for anything else (the go command's own errors),
// the plain lines.
func buildOutput(b []byte) (lines []string, failed bool) {
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var e buildEvent
		if l[0] == '{' && json.Unmarshal(l, &e) == nil && e.Action != "" {
			switch e.Action {
			case "build-output":
				lines = append(lines, strings.TrimRight(e.Output, "\n"))
			case "build-fail":
				failed = true
			}
			continue
		}
		lines = append(lines, string(l))
	}
	return lines, failed
}
