package checker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// Table tests of the parts that do not run the go command.

func TestCaptureClassifies(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		out     string
		framing []string
		logs    []string
		dump    string
	}{
		{"framing and logs", "\x16=== RUN   TestA\nhello\n    zz_tutor_check_test.go:12: measured 3\n        more\n\x16--- PASS: TestA (0.00s)\n\x16PASS\n",
			"hello\n", []string{"=== RUN   TestA", "--- PASS: TestA (0.00s)", "PASS"}, []string{"zz_tutor_check_test.go:12: measured 3 more"}, ""},
		{"output without newline runs into framing", "xxxx\x16--- FAIL: TestA (0.00s)\n",
			"xxxx", []string{"--- FAIL: TestA (0.00s)"}, nil, ""},
		{"unmarked framing is the learner's", "--- PASS: TestA (0.00s)\nPASS\n{\"Action\":\"pass\"}\n",
			"--- PASS: TestA (0.00s)\nPASS\n{\"Action\":\"pass\"}\n", nil, nil, ""},
		{"panic after output without newline", "partial panic: boom\n\ngoroutine 1 [running]:\nmain.f()\n\t/x/a.go:3 +0x1\n",
			"partial ", nil, nil, "panic: boom\n\ngoroutine 1 [running]:\nmain.f()\n\t/x/a.go:3 +0x1\n"},
		{"race report is kept and shown", "==================\nWARNING: DATA RACE\nWrite at 0x1 by goroutine 7:\n==================\nafter\n",
			"==================\nWARNING: DATA RACE\nWrite at 0x1 by goroutine 7:\n==================\nafter\n", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Write byte by byte and all at once: the result must not depend on how writes split.
			for _, split := range []int{1, len(tt.in)} {
				c := &capture{}
				for i := 0; i < len(tt.in); i += split {
					c.Write([]byte(tt.in[i:min(i+split, len(tt.in))]))
				}
				c.flush()
				if got := c.out.String(); got != tt.out {
					t.Errorf("split %d: out = %q, want %q", split, got, tt.out)
				}
				if !slices.Equal(c.framing, tt.framing) {
					t.Errorf("split %d: framing = %q, want %q", split, c.framing, tt.framing)
				}
				if !slices.Equal(c.logs, tt.logs) {
					t.Errorf("split %d: logs = %q, want %q", split, c.logs, tt.logs)
				}
				if got := c.dump.String(); got != tt.dump {
					t.Errorf("split %d: dump = %q, want %q", split, got, tt.dump)
				}
			}
		})
	}
}

// TestCaptureBounded (point 9) writes 100 MB, in lines and without any
// newline, and checks what is kept stays within the caps and the count of
// what was dropped is exact.
func TestCaptureBounded(t *testing.T) {
	for _, chunk := range []string{strings.Repeat("y", 1023) + "\n", strings.Repeat("z", 64<<10)} {
		c := &capture{}
		c.Write([]byte("FIRST\n"))
		var total int64 = 6
		for total < 100<<20 {
			c.Write([]byte(chunk))
			total += int64(len(chunk))
		}
		c.Write([]byte("\nLAST\n"))
		total += 6
		c.flush()
		if n := len(c.out.head) + cap(c.out.tail) + cap(c.line); n > headCap+3*tailCap+lineCap {
			t.Errorf("capture holds %d bytes after 100 MB, want at most %d", n, headCap+3*tailCap+lineCap)
		}
		s := c.out.String()
		if !strings.HasPrefix(s, "FIRST\n") || !strings.HasSuffix(s, "\nLAST\n") || !strings.Contains(s, "of output not kept") {
			t.Errorf("kept %.20q … %.20q, want the first and last lines and a dropped count", s, s[len(s)-20:])
		}
		if got := c.out.total(); got != total {
			t.Errorf("counted %d bytes, want %d", got, total)
		}
	}
}

// TestCaptureKeepsWholeDump: a timeout's dump of hundreds of goroutines
// is kept whole (up to dumpCap), so that a learner goroutine listed among
// the check's own is still found; the output's 4 KiB head and tail lost it
// (lesson 14: 490 goroutines of the check around the learner's).
func TestCaptureKeepsWholeDump(t *testing.T) {
	var b strings.Builder
	b.WriteString("panic: test timed out after 1m0s\n")
	for i := range 500 {
		fmt.Fprintf(&b, "\ngoroutine %d [chan send]:\np.checkLoad.func1()\n\t/w/lesson/zz_tutor_check_test.go:249 +0x1\ncreated by p.checkLoad in goroutine 6\n\t/w/lesson/zz_tutor_check_test.go:240 +0x2\n", i+10)
		if i == 250 {
			b.WriteString("\ngoroutine 900 [chan send]:\np.New.func3()\n\t/w/lesson/code.go:77 +0x8e\n")
		}
	}
	c := &capture{}
	c.Write([]byte(b.String()))
	c.flush()
	loc := &locator{job: Job{Dir: "lesson"}, root: "/w"}
	if got, want := loc.blocked(c.dump.String()), []string{"lesson/code.go:77 (chan send)"}; !slices.Equal(got, want) {
		t.Errorf("blocked = %q, want %q", got, want)
	}
	for b.Len() < 4*dumpCap {
		b.WriteString("\ngoroutine 901 [select]:\np.f()\n\t/w/lesson/zz_tutor_check_test.go:1 +0x1\n")
	}
	c = &capture{}
	c.Write([]byte(b.String()))
	if n := len(c.dump.head) + len(c.dump.tail); n > dumpCap {
		t.Errorf("a %d-byte dump kept %d bytes, want at most %d", b.Len(), n, dumpCap)
	}
}

// TestBlockedOrder: where the learner's code waits itself comes before
// where it waits inside other code (the lesson's server package here), as
// in lesson 14's deadlock: a core slot taken on the loop (line 77) holds
// the loop that the quotes (line 67) wait for.
func TestBlockedOrder(t *testing.T) {
	indirect := "goroutine %d [chan send]:\nruntime.chansend1(0x1, 0x2)\n\t/go/src/runtime/chan.go:161 +0x1\n" +
		"example.com/m/loop.(*Baton).Acquire(...)\n\t/w/loop/baton.go:20\n" +
		"example.com/m/loop.(*Ctx).RunInPool(0x1, 0x2)\n\t/w/loop/app.go:120 +0x1\n" +
		"example.com/m/lesson.New.func2(0x1)\n\t/w/lesson/code.go:67 +0x2\n"
	direct := "goroutine 9 [chan send]:\nruntime.chansend1(0x1, 0x2)\n\t/go/src/runtime/chan.go:161 +0x1\n" +
		"example.com/m/lesson.New.func3(0x1)\n\t/w/lesson/code.go:77 +0x8e\n" +
		"example.com/m/loop.run(0x1)\n\t/w/loop/app.go:100 +0x57\n"
	dump := "panic: test timed out after 1m0s\n\n" + fmt.Sprintf(indirect, 7) + "\n" + fmt.Sprintf(indirect, 8) + "\n" + direct
	loc := &locator{job: Job{Dir: "lesson"}, root: "/w"}
	want := []string{"lesson/code.go:77 (chan send)", "lesson/code.go:67 (chan send) ×2"}
	if got := loc.blocked(dump); !slices.Equal(got, want) {
		t.Errorf("blocked = %q, want %q", got, want)
	}
}

func TestDeclaredChecks(t *testing.T) {
	files := map[string][]byte{
		"b_test.go": []byte("package p\n\nimport tt \"testing\"\n\nfunc TestB(t *tt.T) {}\n"),
		"a_test.go": []byte(`package p

import "testing"

func TestZed(t *testing.T)      {}
func TestAlpha(t *testing.T)    {}
func Testlower(t *testing.T)    {} // not a test: lower case after Test
func TestBench(b *testing.B)    {} // not a test: *testing.B
func helper(t *testing.T)       {}
func TestResult(t *testing.T) int { return 0 }
func Test(t *testing.T)         {}
func Test_x(t *testing.T)       {}
`),
	}
	got, err := declaredChecks(files)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"TestZed", "TestAlpha", "Test", "Test_x", "TestB"}
	if !slices.Equal(got, want) {
		t.Errorf("declared = %q, want %q (files by name, functions in source order)", got, want)
	}
	if _, err := declaredChecks(map[string][]byte{"x_test.go": []byte("package p\nfunc (")}); err == nil {
		t.Error("a file that does not parse gave no error")
	}
}

func TestJudge(t *testing.T) {
	passed := []record{{Check: "A", Title: "A works", Passed: true, Message: "A: 3 ms (the check allows up to 10 ms)."}}
	failed := []record{{Check: "A", Passed: false, Message: "A: 30 ms. Too slow."}}
	forged := []record{{Check: "B", Passed: true, Message: "ok"}} // another check's name
	exit := func(code int) procEnd { return procEnd{ran: true, code: code, exited: true, how: "exit status"} }
	tests := []struct {
		name   string
		end    procEnd
		recs   []record
		out    string
		status Status
		msg    string
	}{
		{"ran to its end and passed", exit(0), passed, "\x16--- PASS: TestA (0.00s)\n", Passed, "A: 3 ms"},
		{"skipped itself", exit(0), passed, "\x16--- SKIP: TestA (0.00s)\n", Skipped, "A: 3 ms"},
		{"failed", exit(1), failed, "", Failed, "A: 30 ms. Too slow."},
		{"exit 0 before the report", exit(0), nil, "\x16--- PASS: TestA (0.00s)\n\x16PASS\n", Failed,
			"the test process exited during A: os.Exit or syscall.Exit in your code?"},
		{"exit 0 with another check's record", exit(0), forged, "", Failed, "the test process exited during A:"},
		{"exit 1 before the report", exit(1), nil, "", Failed, "the test process exited during A with exit status 1"},
		{"passing record, then a race", exit(66), passed, "", Failed, "its test process then ended with exit status"},
		{"killed by a signal", procEnd{ran: true, code: -1, how: "signal: killed"}, nil, "", Failed, "the test process was stopped (signal: killed) during A"},
		{"the checker's deadline", procEnd{ran: true, code: 2, how: "exit status 2", stopped: stopTimeout}, passed, "", TimedOut, "did not finish within the 20s limit"},
		{"the testing alarm", exit(2), nil, "panic: test timed out after 20s\n\trunning tests:\n\t\tTestA (20s)\n", TimedOut, "did not finish within the 20s limit"},
		{"a panic", exit(2), failed, "panic: boom\n\ngoroutine 7 [running]:\n", Failed, "your code panicked: boom"},
		{"a printed panic is not one", exit(0), passed, "panic: not really\n", Passed, "A: 3 ms"},
		{"a printed panic, then the alarm", exit(2), nil, "panic: not really\nmore\npanic: test timed out after 20s\n", TimedOut, "did not finish"},
		{"a printed panic, then a real one", exit(2), nil, "panic: not really\npanic: boom\n\ngoroutine 7 [running]:\n", Failed, "your code panicked: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &checkRun{test: "TestA", end: tt.end, out: &capture{}, recs: tt.recs, limit: 20 * time.Second, located: &locator{}}
			cr.out.Write([]byte(tt.out))
			cr.out.flush()
			c, _, _ := cr.judge()
			if c.Status != tt.status || !strings.Contains(c.Message, tt.msg) {
				t.Errorf("judged %s %q, want %s with %q", c.Status, c.Message, tt.status, tt.msg)
			}
			if c.Passed != (tt.status == Passed || tt.status == Skipped) {
				t.Errorf("passed = %v with status %s", c.Passed, c.Status)
			}
		})
	}
	cr := &checkRun{test: "TestA", end: exit(1), out: &capture{}, recErr: errors.New("bad line"), located: &locator{}}
	if c, _, _ := cr.judge(); c.Status != Failed || !strings.Contains(c.Message, "report could not be read") {
		t.Errorf("an unreadable report judged %s %q", c.Status, c.Message)
	}
}

func TestVerdictOf(t *testing.T) {
	c := func(s ...Status) []Check {
		var out []Check
		for _, st := range s {
			out = append(out, Check{Status: st})
		}
		return out
	}
	for _, tt := range []struct {
		checks []Check
		want   Verdict
	}{
		{c(Passed, Skipped), Pass},
		{c(Passed, NotRun), Fail},
		{c(Failed, Passed), Fail},
		{c(TimedOut, NotRun), Timeout},
		{nil, Error},
	} {
		if got := verdictOf(tt.checks); got != tt.want {
			t.Errorf("verdictOf(%v) = %s, want %s", tt.checks, got, tt.want)
		}
	}
}

func TestFuncOfFrame(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/gotutor/tutor/lessons/02-event-loop.Ping(0xc000010000)":      "Ping",
		"github.com/gotutor/tutor/lessons/02-event-loop.Ping.func1()":            "Ping",
		"github.com/gotutor/tutor/lessons/02-event-loop.(*Server).Run(0x1)":      "Run",
		"github.com/gotutor/tutor/lessons/02-event-loop.Server.Run(...)":         "Run",
		"created by github.com/gotutor/tutor/lessons/lesson.Work in goroutine 7": "Work",
		"lesson.spin(...)": "spin",
	} {
		if got := funcOfFrame(in); got != want {
			t.Errorf("funcOfFrame(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlaceLine(t *testing.T) {
	src := "package lesson\n\nfunc spin() int {\n\tn := 0\n\tfor {\n\t\tn++\n\t}\n}\n\nfunc wait() {\n\tselect {}\n}\n"
	loc := &locator{job: Job{Dir: "lesson", Replace: map[string][]byte{"code.go": []byte(src)}}, root: t.TempDir()}
	for _, tt := range []struct {
		fn         string
		line, want int
	}{
		{"spin", 1, 5},  // the compiler's line for an empty loop's jump: the loop
		{"spin", 6, 6},  // inside the function: kept
		{"wait", 1, 10}, // no endless loop: the function's first line
		{"nope", 1, 1},  // unknown function: kept
	} {
		if got := loc.placeLine("lesson/code.go", tt.fn, tt.line); got != tt.want {
			t.Errorf("placeLine(%s, %d) = %d, want %d", tt.fn, tt.line, got, tt.want)
		}
	}
}

// TestRecordContract keeps record in step with harness.Record.
func TestRecordContract(t *testing.T) {
	in := harness.Record{Check: "A", Title: "t", Passed: true, Message: "m", Remeasured: true,
		Measures: []harness.Measure{{What: "w", Unit: harness.Millis, Samples: []float64{1, 2}, Value: 1.5, Bound: 3, Rule: "max", Passed: true}},
		Timeline: []harness.Span{{Label: "l", Start: time.Millisecond, End: 2 * time.Millisecond, Outcome: "ok"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var c Check
	r.apply(&c)
	if r.Check != "A" || !r.Passed || c.Title != "t" || c.Message != "m" || !c.Remeasured ||
		len(c.Measures) != 1 || c.Measures[0].Value != 1.5 || c.Measures[0].Rule != "max" ||
		len(c.Timeline) != 1 || c.Timeline[0].StartMS != 1 || c.Timeline[0].EndMS != 2 {
		t.Errorf("record %+v → check %+v lost fields of %s", r, c, b)
	}
	if harness.ReportEnv != reportEnv {
		t.Errorf("harness reads %s, the checker sets %s", harness.ReportEnv, reportEnv)
	}
}

func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	if recs, err := readReport(filepath.Join(dir, "none")); recs != nil || err != nil {
		t.Errorf("missing report = %v, %v; want no records, no error", recs, err)
	}
	p := filepath.Join(dir, "r.jsonl")
	os.WriteFile(p, []byte(`{"check":"A","passed":false}`+"\n"+`{"check":"A","passed":true}`+"\n"), 0o644)
	recs, err := readReport(p)
	if err != nil || len(recs) != 2 {
		t.Fatalf("read %v, %v", recs, err)
	}
	if r := recordOf(recs, "A"); r == nil || !r.Passed {
		t.Errorf("recordOf = %+v, want the last record of A", r)
	}
	if r := recordOf(recs, "B"); r != nil {
		t.Errorf("recordOf(B) = %+v, want nil", r)
	}
}

// TestBuildSettings: cgo is off unless the race detector, which needs it,
// is on (with cgo on, every build asks the C compiler for its version).
func TestBuildSettings(t *testing.T) {
	for _, race := range []bool{false, true} {
		env := buildSettings(race, "/tmp/run")
		if got, want := slices.Contains(env, "CGO_ENABLED=0"), !race; got != want {
			t.Errorf("buildSettings(race %v) = %q: CGO_ENABLED=0 is there: %v, want %v", race, env, got, want)
		}
		if !slices.Contains(env, "GOTMPDIR=/tmp/run") {
			t.Errorf("buildSettings(race %v) = %q, want GOTMPDIR=/tmp/run", race, env)
		}
	}
}
