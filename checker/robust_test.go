package checker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests attack the checker with learner code that tries to end the
// test process early, forge its framing, flood its output or carry state
// between checks (issue 10, points 3 and 7–10, and 14).

// requireAllListed fails unless res lists both fixture checks, in order.
func requireAllListed(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Checks) != 2 || res.Checks[0].Name != "Answer" || res.Checks[1].Name != "Fast" {
		t.Fatalf("checks = %+v, want Answer and Fast listed", res.Checks)
	}
	for _, c := range res.Checks {
		if c.Status == "" {
			t.Errorf("check %s has no status", c.Name)
		}
		if c.Passed != (c.Status == Passed || c.Status == Skipped) {
			t.Errorf("check %s: passed = %v but status %s", c.Name, c.Passed, c.Status)
		}
	}
}

// TestEarlyExitNeverPasses (point 7): a test process that ends before its
// check reported, whatever it printed first, fails that check.
func TestEarlyExitNeverPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	// Framing a test process could print: test2json's marked lines and
	// go test -json events, for both checks, then the final PASS.
	spoof := `"\x16=== RUN   TestAnswer\n\x16--- PASS: TestAnswer (0.00s)\n\x16=== RUN   TestFast\n\x16--- PASS: TestFast (0.00s)\n\x16PASS\n" +
		"{\"Action\":\"run\",\"Test\":\"TestAnswer\"}\n{\"Action\":\"pass\",\"Test\":\"TestAnswer\"}\n{\"Action\":\"run\",\"Test\":\"TestFast\"}\n{\"Action\":\"pass\",\"Test\":\"TestFast\"}\n{\"Action\":\"pass\"}\n" +
		"--- PASS: TestAnswer (0.00s)\n--- PASS: TestFast (0.00s)\nPASS\nok  \tlesson\t0.01s\n"`
	tests := []struct {
		name, code, want string
	}{
		{"syscall.Exit(0)", "package lesson\n\nimport \"syscall\"\n\nfunc Work() int { syscall.Exit(0); return 42 }\n",
			"the test process exited during Answer: os.Exit or syscall.Exit in your code?"},
		{"framing spoof then syscall.Exit(0)", "package lesson\n\nimport (\n\t\"fmt\"\n\t\"syscall\"\n)\n\nfunc Work() int {\n\tfmt.Print(" + spoof + ")\n\tsyscall.Exit(0)\n\treturn 42\n}\n",
			"the test process exited during Answer: os.Exit or syscall.Exit in your code?"},
		{"os.Exit(0)", "package lesson\n\nimport \"os\"\n\nfunc Work() int { os.Exit(0); return 42 }\n",
			"unexpected call to os.Exit(0) during test"},
		{"os.Exit(3)", "package lesson\n\nimport \"os\"\n\nfunc Work() int { os.Exit(3); return 42 }\n",
			"the test process exited during Answer with exit status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Run(context.Background(), fixture(t, tt.code))
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != Fail {
				t.Errorf("verdict = %s, want fail: %+v", res.Verdict, res)
			}
			requireAllListed(t, res)
			if c := res.Checks[0]; c.Passed || c.Status != Failed || !strings.Contains(c.Message, tt.want) {
				t.Errorf("Answer = %+v, want failed with %q", c, tt.want)
			}
		})
	}
}

// TestTimeLimitListsTheRest (points 7, 8): a check that uses up the time
// limit is named, and the checks after it are listed as not run, with why.
func TestTimeLimitListsTheRest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	job := fixture(t, "package lesson\n\nfunc Work() int {\n\tfor {\n\t}\n}\n")
	job.Timeout = 2 * time.Second
	res, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Timeout || res.Running != "Answer" {
		t.Fatalf("verdict = %s, running %q; want timeout in Answer", res.Verdict, res.Running)
	}
	requireAllListed(t, res)
	if c := res.Checks[0]; c.Status != TimedOut || !strings.Contains(c.Message, "did not finish within the 2s limit") {
		t.Errorf("Answer = %+v, want timed out", c)
	}
	if c := res.Checks[1]; c.Status != NotRun || c.Message != "not run: the time limit (2s) was used up by Answer" {
		t.Errorf("Fast = %+v, want not run because Answer used up the limit", c)
	}
}

// TestLongLineKeepsFailure (point 8): learner output without a newline
// must not hide the failing check.
func TestLongLineKeepsFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	// Printed before the first check starts (the case of issue 10: the
	// first check's start was lost), and inside the check.
	for _, tt := range []struct{ name, where string }{
		{"4KB-in-init", "func init() { fmt.Print(strings.Repeat(\"x\", 4<<10)) }\n\nfunc Work() int {\n"},
		{"100KB-in-Work", "func Work() int {\n\tfmt.Print(strings.Repeat(\"x\", 100<<10))\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := "package lesson\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\n" + tt.where + "\treturn 7\n}\n"
			res, err := r.Run(context.Background(), fixture(t, code))
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != Fail {
				t.Fatalf("verdict = %s, want fail", res.Verdict)
			}
			requireAllListed(t, res)
			if c := res.Checks[0]; c.Passed || !strings.Contains(c.Message, "Work(): 7") {
				t.Errorf("Answer = %+v, want failed naming Work(): 7", c)
			}
			if !strings.HasPrefix(res.Output, "xxxx") {
				t.Errorf("output starts %.40q, want the learner's x's", res.Output)
			}
		})
	}
}

// TestOutputFloodKeepsHeadAndTail (point 9): a flood of output keeps the
// first and the last part with a count of what was dropped.
func TestOutputFloodKeepsHeadAndTail(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	// init prints 8 MB in each check's process: 16 MB in all.
	code := `package lesson

import (
	"fmt"
	"os"
	"strings"
)

func init() {
	fmt.Println("FIRST-LINE")
	line := strings.Repeat("y", 1023) + "\n"
	for range 4 << 10 {
		os.Stdout.WriteString(line)
	}
	os.Stdout.WriteString(strings.Repeat("z", 4<<20))
	fmt.Println("LAST-LINE")
}

func Work() int { return 42 }
`
	res, err := r.Run(context.Background(), fixture(t, code))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Pass {
		t.Fatalf("verdict = %s, want pass: %s", res.Verdict, res.Summary)
	}
	requireAllListed(t, res)
	if len(res.Output) > OutputCap+200 {
		t.Errorf("output kept %d bytes, want at most %d + the dropped line", len(res.Output), OutputCap)
	}
	if !strings.HasPrefix(res.Output, "FIRST-LINE\n") || !strings.HasSuffix(res.Output, "LAST-LINE\n") || !strings.Contains(res.Output, "of output not kept") {
		t.Errorf("output = %.60q … %.60q, want the first line, a dropped count and the last line", res.Output, res.Output[max(0, len(res.Output)-60):])
	}
	const printed = 2 * (len("FIRST-LINE\n") + 4<<20 + 4<<20 + len("LAST-LINE\n"))
	if kept := int64(len(res.Output)); res.OutputDropped < int64(printed)-kept || !res.OutputTruncated {
		t.Errorf("dropped = %d, want about %d", res.OutputDropped, int64(printed)-kept)
	}
}

// TestTimeoutNamesLearnerLine (point 10): a timeout names the line of the
// endless loop, not line 1 (where the compiler puts an empty loop's jump).
func TestTimeoutNamesLearnerLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	code := `package lesson

func spin() int {
	n := 0
	for {
		n++
	}
}

func Work() int {
	done := make(chan int)
	go func() { done <- spin() }()
	return <-done
}
`
	job := fixture(t, code)
	job.Timeout = 2 * time.Second
	res, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Timeout {
		t.Fatalf("verdict = %s, want timeout", res.Verdict)
	}
	joined := strings.Join(res.Blocked, ", ")
	// spin is inlined into the goroutine's closure, and where the dump
	// catches it depends on the moment: in spin's loop (line 5) or in the
	// closure that calls it (line 12). Both are the learner's lines; line
	// 1, which the compiler gives an empty loop's back-jump, is not.
	spinning := strings.Contains(joined, "lesson/code.go:5 ") || strings.Contains(joined, "lesson/code.go:12 ")
	if !spinning || !strings.Contains(joined, "lesson/code.go:13 (chan receive)") {
		t.Errorf("blocked = %q, want the loop at lesson/code.go:5 (or its caller at :12) and the wait at lesson/code.go:13", res.Blocked)
	}
	if strings.Contains(joined, "code.go:1 ") {
		t.Errorf("blocked = %q names line 1", res.Blocked)
	}
	if m := res.Checks[0].Message; !strings.Contains(m, "lesson/code.go:5") && !strings.Contains(m, "lesson/code.go:12") {
		t.Errorf("Answer's message = %q, want it to name lesson/code.go:5 or :12", m)
	}
}

// TestFreshProcessPerCheck (point 3): package state one check leaves does
// not reach the next. Here Work is slow from its second call on; each
// check calls it once, so it passes only if each check starts afresh.
func TestFreshProcessPerCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	code := `package lesson

import "time"

var calls int

func Work() int {
	calls++
	if calls > 1 {
		time.Sleep(300 * time.Millisecond)
	}
	return 42
}
`
	res, err := r.Run(context.Background(), fixture(t, code))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Pass {
		t.Errorf("verdict = %s (%s), want pass: the second check saw the first one's calls", res.Verdict, res.Summary)
	}
}

// TestStaleRunDirs checks that a new runner removes run directories whose
// owner is dead and keeps those of live runs.
func TestStaleRunDirs(t *testing.T) {
	scratch := t.TempDir()
	live, err := newRunDir(scratch, "run-")
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	dead, err := newRunDir(scratch, "run-")
	if err != nil {
		t.Fatal(err)
	}
	dead.lock.Close()                        // as if its owner had died
	old := filepath.Join(scratch, "run-123") // an older tutor's, no lock file
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * staleAge)
	os.Chtimes(old, past, past)
	recent := filepath.Join(scratch, "run-456")
	os.Mkdir(recent, 0o755)
	other := filepath.Join(scratch, "files")
	os.Mkdir(other, 0o755)

	if n := removeStale(scratch); n != 2 {
		t.Errorf("removed %d, want 2", n)
	}
	for dir, want := range map[string]bool{live.path: true, dead.path: false, old: false, recent: true, other: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(dir), err == nil, want)
		}
	}
}
