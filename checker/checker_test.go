package checker

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixture returns a job against testdata/ws whose lesson/code.go is
// replaced by code, with the real harness and the hidden check of
// testdata/hidden.
func fixture(t *testing.T, code string) Job {
	t.Helper()
	root, err := filepath.Abs("testdata/ws")
	if err != nil {
		t.Fatal(err)
	}
	check, err := os.ReadFile("testdata/hidden/check_test.go")
	if err != nil {
		t.Fatal(err)
	}
	harness := map[string][]byte{}
	names, err := filepath.Glob(filepath.Join("..", "lessons", "harness", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		harness[filepath.Base(name)] = b
	}
	return Job{
		Lesson: "00-fixture", Root: root, Dir: "lesson", Files: []string{"code.go"},
		Checks: map[string][]byte{"check_test.go": check}, Harness: harness,
		Replace: map[string][]byte{"code.go": []byte(code)},
		Timeout: 3 * time.Second,
	}
}

func newRunner(t *testing.T) *Runner {
	t.Helper()
	r, err := NewRunner("", t.TempDir())
	if err != nil {
		t.Skip(err)
	}
	return r
}

// TestVerdicts runs one fixture per verdict through the real go command.
func TestVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	tests := []struct {
		name    string
		code    string
		want    Verdict
		inspect func(t *testing.T, res *Result)
	}{
		{"pass", "package lesson\n\nfunc Work() int { return 42 }\n", Pass, func(t *testing.T, res *Result) {
			if len(res.Checks) != 2 || res.Checks[0].Title != "Work returns 42" {
				t.Errorf("checks = %+v, want 2 with titles from the harness", res.Checks)
			}
			if len(res.Timeline) != 1 || res.TimelineCheck != "Answer" {
				t.Errorf("timeline = %+v from %q, want the Answer check's span", res.Timeline, res.TimelineCheck)
			}
		}},
		{"fail", "package lesson\n\nfunc Work() int { return 7 }\n", Fail, func(t *testing.T, res *Result) {
			c := res.Checks[0]
			if c.Passed || !strings.Contains(c.Message, "Work(): 7") || !strings.Contains(c.Message, "at least 42") {
				t.Errorf("check = %+v, want a failure naming 7 and the bound 42", c)
			}
			if !res.Checks[1].Passed {
				t.Errorf("Fast check failed: %+v", res.Checks[1])
			}
		}},
		{"build-error", "package lesson\n\nfunc Work() int {\n\treturn x\n}\n", BuildError, func(t *testing.T, res *Result) {
			want := CompileError{File: "lesson/code.go", Line: 4, Column: 9, Message: "undefined: x"}
			if len(res.BuildErrors) != 1 || res.BuildErrors[0] != want {
				t.Errorf("build errors = %+v, want [%+v]", res.BuildErrors, want)
			}
		}},
		{"hidden-build-error", "package lesson\n\nfunc Work2() int { return 42 }\n", BuildError, func(t *testing.T, res *Result) {
			if len(res.BuildErrors) == 0 || res.BuildErrors[0].File != "lesson/code.go" ||
				!strings.Contains(res.BuildErrors[0].Message, "undefined: Work") {
				t.Errorf("build errors = %+v, want the missing Work reported against lesson/code.go", res.BuildErrors)
			}
		}},
		{"panic", "package lesson\n\nfunc Work() int {\n\tvar m map[string]int\n\tm[\"x\"] = 1\n\treturn 42\n}\n", Fail, func(t *testing.T, res *Result) {
			if res.Panic == nil || !strings.Contains(res.Panic.Message, "nil map") || res.Panic.File != "lesson/code.go" || res.Panic.Line != 5 {
				t.Errorf("panic = %+v, want the nil map write at lesson/code.go:5", res.Panic)
			}
			if res.Running != "Answer" || res.Checks[0].Passed {
				t.Errorf("running = %q, checks = %+v; want Answer failed", res.Running, res.Checks)
			}
		}},
		{"timeout", "package lesson\n\nfunc Work() int {\n\tfor {\n\t}\n}\n", Timeout, func(t *testing.T, res *Result) {
			if res.Running != "Answer" {
				t.Errorf("running = %q, want Answer", res.Running)
			}
		}},
		// The build runs with GOGC=off; the learner's code must not.
		{"gc-restored", "package lesson\n\nimport \"runtime/debug\"\n\nfunc Work() int {\n\tif p := debug.SetGCPercent(100); p != 100 {\n\t\treturn p\n\t}\n\treturn 42\n}\n", Pass, func(t *testing.T, res *Result) {}},
		{"output", "package lesson\n\nimport \"fmt\"\n\nfunc Work() int { fmt.Println(\"hello from the learner\"); return 42 }\n", Pass, func(t *testing.T, res *Result) {
			if !strings.Contains(res.Output, "hello from the learner") || strings.Contains(res.Output, "RUN") {
				t.Errorf("output = %q, want only the learner's line", res.Output)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Run(context.Background(), fixture(t, tt.code))
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.want {
				t.Fatalf("verdict = %s, want %s; result: %+v", res.Verdict, tt.want, res)
			}
			b, _ := json.Marshal(res)
			for _, leak := range []string{"zz_tutor", "check_test.go", r.scratch} {
				if strings.Contains(string(b), leak) {
					t.Errorf("result mentions %q, a path of the hidden checks: %s", leak, b)
				}
			}
			tt.inspect(t, res)
		})
	}
}

// TestUnixOnly checks that a job needing Unix gets its one-line answer,
// before anything is built, on a system without process groups, and runs
// normally where they exist.
func TestUnixOnly(t *testing.T) {
	r := newRunner(t)
	job := fixture(t, "package lesson\n\nfunc Work() int { return 42 }\n")
	job.Unix = true
	r.unix = false // as on Windows
	res, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Error || res.Summary != UnixOnly || res.Phases["build"] != 0 {
		t.Errorf("without process groups: verdict %s, summary %q, phases %v; want error %q before any build", res.Verdict, res.Summary, res.Phases, UnixOnly)
	}
	if strings.Contains(UnixOnly, "\n") {
		t.Errorf("UnixOnly is not one line: %q", UnixOnly)
	}
	if testing.Short() || !ProcessGroups {
		return
	}
	r.unix = true
	if res, err := r.Run(context.Background(), job); err != nil || res.Verdict != Pass {
		t.Errorf("with process groups: %v, %+v; want pass", err, res)
	}
}

// TestTimeoutKillsGroup checks that a timeout ends everything the learner's
// code started, and that it comes within the limit plus the grace period.
func TestTimeoutKillsGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	r := newRunner(t)
	marker := "tutor-orphan-" + filepath.Base(t.TempDir())
	code := `package lesson

import "os/exec"

func Work() int {
	exec.Command("sh", "-c", "sleep 60; echo ` + marker + `").Start()
	for {
	}
}
`
	job := fixture(t, code)
	job.Timeout = 2 * time.Second
	start := time.Now()
	res, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Timeout {
		t.Fatalf("verdict = %s, want timeout: %+v", res.Verdict, res)
	}
	if d := time.Since(start); d > job.Timeout+5*time.Second+time.Duration(res.Phases["build"])*time.Millisecond {
		t.Errorf("timeout reported after %v, want within limit %v + 5 s (+ build)", d, job.Timeout)
	}
	time.Sleep(200 * time.Millisecond)
	if out, err := exec.Command("pgrep", "-f", marker).Output(); err == nil && len(out) > 0 {
		t.Errorf("processes left behind after the timeout: %s", out)
	}
}

// TestCancel checks that cancelling a run returns promptly with ctx's error.
func TestCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	job := fixture(t, "package lesson\n\nimport \"time\"\n\nfunc Work() int { time.Sleep(time.Minute); return 42 }\n")
	job.Timeout = time.Minute
	time.AfterFunc(2*time.Second, cancel)
	start := time.Now()
	res, err := r.Run(ctx, job)
	if err == nil {
		t.Fatalf("Run = %+v, want the context's error", res)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled run took %v to return", d)
	}
}

// TestProgress checks that a run reports each check as it starts and ends,
// with the ended check's message, before the run is over.
func TestProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	r := newRunner(t)
	job := fixture(t, "package lesson\n\nfunc Work() int { return 7 }\n")
	var seen []Progress
	job.OnProgress = func(p Progress) { seen = append(seen, p) }
	res, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Fail {
		t.Fatalf("verdict = %s, want fail", res.Verdict)
	}
	// Answer runs, Answer ends (failed), Fast runs, Fast ends.
	if len(seen) != 4 {
		t.Fatalf("got %d progress reports, want 4: %+v", len(seen), seen)
	}
	if seen[0].Running != "Answer" || len(seen[0].Done) != 0 {
		t.Errorf("first report = %+v, want Answer running and nothing done", seen[0])
	}
	answer := seen[1].Done
	if seen[1].Running != "" || len(answer) != 1 || answer[0].Name != "Answer" || answer[0].Passed ||
		!strings.Contains(answer[0].Message, "Work(): 7") || answer[0].Title != "Work returns 42" || len(answer[0].Measures) != 1 {
		t.Errorf("second report = %+v, want Answer failed with its title, message and measure", seen[1])
	}
	if seen[2].Running != "Fast" || len(seen[2].Done) != 1 {
		t.Errorf("third report = %+v, want Fast running after Answer", seen[2])
	}
	if last := seen[3]; len(last.Done) != 2 || !last.Done[1].Passed || last.Running != "" {
		t.Errorf("last report = %+v, want both checks done, Fast passed", last)
	}
}
