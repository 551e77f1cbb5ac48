package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// tutorBin is the real binary, built once by TestMain.
var tutorBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tutor-cli-test-")
	if err != nil {
		panic(err)
	}
	tutorBin = filepath.Join(dir, "tutor")
	if out, err := exec.Command("go", "build", "-o", tutorBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tutor runs the binary with TUTOR_WORKSPACE=ws and returns stdout, stderr
// and the exit code.
func tutor(t *testing.T, ws string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(tutorBin, args...)
	cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tutor %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func course(t *testing.T) *lessons.Course {
	t.Helper()
	c, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUsageErrors(t *testing.T) {
	ws := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" (valid: serve, init,`},
		{[]string{"list", "--frob"}, "list: unknown flag -frob (valid flags: --json, --workspace)"},
		{[]string{"check", "99"}, `unknown lesson "99" (valid: 01-measure, 02-event-loop`},
		{[]string{"hint"}, "hint needs exactly one lesson ID, e.g. `tutor hint 02`"},
		{[]string{"check", "02"}, "no workspace at "},
	}
	for _, tt := range tests {
		out, errOut, code := tutor(t, filepath.Join(ws, "none"), tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("tutor %v: exit %d, stderr %q, stdout %q; want exit 2 and one line containing %q", tt.args, code, errOut, out, tt.want)
		}
	}
}

// TestEndToEnd drives the acceptance path of the foundation issue through
// the real binary against a temporary workspace.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs checks")
	}
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	c := course(t)
	ws := filepath.Join(t.TempDir(), "ws")
	l, err := c.Lesson("02")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(ws, l.ID, l.Files[0])

	out, errOut, code := tutor(t, ws, "init", "--no-warm")
	if code != 0 || !strings.Contains(out, "Created your workspace") {
		t.Fatalf("init: exit %d, %s %s", code, out, errOut)
	}

	// list --json
	out, _, code = tutor(t, ws, "list", "--json")
	var list []lessonJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("list --json: exit %d, %v: %s", code, err, out)
	}
	if len(list) != len(c.Lessons) || list[1].ID != l.ID || list[1].Status != "not-started" || list[1].Files[0] != l.ID+"/"+l.Files[0] {
		t.Errorf("list --json = %+v", list)
	}

	// The starter fails, with the numbers.
	res, code := checkJSON(t, ws, "02")
	if code != 1 || res.Verdict != checker.Fail {
		t.Fatalf("check 02 on the starter: exit %d, verdict %s, want 1 and fail: %+v", code, res.Verdict, res)
	}
	if !strings.Contains(failing(res), "allows") {
		t.Errorf("failure message %q does not state the bound", failing(res))
	}

	// The reference solution, written by hand (not through the tutor), passes.
	if err := os.WriteFile(file, l.Solution().Files[l.Files[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	if res, code := checkJSON(t, ws, "02-event-loop"); code != 0 || res.Verdict != checker.Pass {
		t.Fatalf("check with the solution: exit %d, %+v", code, res)
	}
	out, _, _ = tutor(t, ws, "list")
	if !strings.Contains(out, "✓ "+l.ID) {
		t.Errorf("list after passing does not mark %s passed:\n%s", l.ID, out)
	}

	// A syntax error is a build error in the learner's file, at the right line.
	src := l.Solution().Files[l.Files[0]]
	broken := append(append([]byte{}, src...), []byte("\nfunc broken() {\n")...)
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	res, code = checkJSON(t, ws, "02")
	if code != 1 || res.Verdict != checker.BuildError || len(res.BuildErrors) == 0 {
		t.Fatalf("check with a syntax error: exit %d, %+v", code, res)
	}
	if be := res.BuildErrors[0]; be.File != l.ID+"/"+l.Files[0] || be.Line < bytes.Count(src, []byte("\n"))+1 {
		t.Errorf("build error = %+v, want %s at or after line %d", be, l.ID+"/"+l.Files[0], bytes.Count(src, []byte("\n"))+1)
	}

	// hint: one at a time, remembered.
	out1, _, _ := tutor(t, ws, "hint", "02")
	out2, _, _ := tutor(t, ws, "hint", "02")
	if !strings.Contains(out1, "Hint 1 of") || !strings.Contains(out2, "Hint 2 of") {
		t.Errorf("hints: %q then %q", out1, out2)
	}

	// reset backs up, undo restores.
	out, _, code = tutor(t, ws, "reset", "02")
	if code != 0 || !strings.Contains(out, ".tutor/backups/") {
		t.Fatalf("reset: exit %d, %s", code, out)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, l.Starter().Files[l.Files[0]]) {
		t.Error("reset did not restore the starter")
	}
	if _, _, code = tutor(t, ws, "reset", "--undo", "02"); code != 0 {
		t.Fatalf("reset --undo: exit %d", code)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, broken) {
		t.Error("undo did not bring the learner's file back")
	}

	// init again keeps the learner's file.
	tutor(t, ws, "init", "--no-warm")
	if b, _ := os.ReadFile(file); !bytes.Equal(b, broken) {
		t.Error("init overwrote the learner's file")
	}

	// solution: refused before passing (lesson 01 is not passed), then forced.
	if _, errOut, code := tutor(t, ws, "solution", "01"); code != 2 || !strings.Contains(errOut, "has not passed yet") {
		t.Errorf("solution 01 before passing: exit %d, %s", code, errOut)
	}
	if out, _, code := tutor(t, ws, "solution", "01", "--force"); code != 0 || !strings.Contains(out, "reference solution") {
		t.Errorf("solution 01 --force: exit %d, %s", code, out)
	}
}

func checkJSON(t *testing.T, ws string, args ...string) (checker.Result, int) {
	t.Helper()
	out, errOut, code := tutor(t, ws, append([]string{"check", "--json"}, args...)...)
	var res checker.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("check --json %v: exit %d, %v\nstdout: %s\nstderr: %s", args, code, err, out, errOut)
	}
	for _, leak := range []string{"zz_tutor", "check_test.go", "gotutor/files"} {
		if strings.Contains(out, leak) || strings.Contains(errOut, leak) {
			t.Errorf("output reveals a hidden check path (%q): %s", leak, out)
		}
	}
	return res, code
}

func failing(r checker.Result) string {
	for _, c := range r.Checks {
		if !c.Passed {
			return c.Message
		}
	}
	return ""
}

// TestWatchJSON saves a lesson file twice within 300 ms while `tutor watch
// --json` runs: it must report one result, for the second version.
func TestWatchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs checks")
	}
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	c := course(t)
	l, _ := c.Lesson("02")
	ws := filepath.Join(t.TempDir(), "ws")
	if _, _, code := tutor(t, ws, "init", "--no-warm"); code != 0 {
		t.Fatal("init failed")
	}
	cmd := exec.Command(tutorBin, "watch", "--json")
	cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	events := make(chan watchEvent, 100)
	go func() { // ends when the process's stdout closes
		dec := json.NewDecoder(stdout)
		for {
			var ev watchEvent
			if err := dec.Decode(&ev); err != nil {
				close(events)
				return
			}
			events <- ev
		}
	}()
	next := func(d time.Duration) (watchEvent, bool) {
		select {
		case ev, ok := <-events:
			return ev, ok
		case <-time.After(d):
			return watchEvent{}, false
		}
	}
	for {
		ev, ok := next(3 * time.Minute)
		if !ok {
			t.Fatal("watch never became ready")
		}
		if ev.Event == "ready" {
			break
		}
	}
	file := filepath.Join(ws, l.ID, l.Files[0])
	starter := l.Starter().Files[l.Files[0]]
	solution := l.Solution().Files[l.Files[0]]
	// First version: a variant that does not compile; second: the solution.
	os.WriteFile(file, append(append([]byte{}, starter...), "\nfunc oops() {\n"...), 0o644)
	time.Sleep(150 * time.Millisecond)
	os.WriteFile(file, solution, 0o644)

	var results []watchEvent
	var progress []watchEvent // of the run that led to a result
	deadline := time.After(30 * time.Second)
collect:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break collect
			}
			switch ev.Event {
			case "checking":
				progress = nil
			case "progress":
				progress = append(progress, ev)
			}
			if ev.Event == "result" {
				results = append(results, ev)
				if ev.Seen == nil {
					t.Errorf("result without the time the save was seen: %+v", ev)
				}
				// wait a little for a (wrong) second result
				deadline = time.After(3 * time.Second)
			}
		case <-deadline:
			break collect
		}
	}
	if len(results) != 1 || results[0].Result == nil || results[0].Verdict != checker.Pass || results[0].Lesson != l.ID {
		t.Fatalf("results = %+v, want exactly one pass for %s", results, l.ID)
	}
	// Before the result, each ended check was reported as it ended.
	if len(progress) == 0 {
		t.Fatalf("no progress event before the result")
	}
	first := progress[0].Progress
	if first == nil || len(first.Done) != 1 || first.Done[0].Name != results[0].Checks[0].Name || first.Done[0].Message == "" {
		t.Errorf("first progress = %+v, want the first check, ended, with its message", first)
	}
	if last := progress[len(progress)-1].Progress; last == nil || len(last.Done) != len(results[0].Checks) {
		t.Errorf("last progress = %+v, want all %d checks ended", last, len(results[0].Checks))
	}
}

// TestEndlessHandler replaces a handler's body with an endless loop: the
// check must end as a timeout within the lesson's limit plus 5 s, and leave
// no process of the check running.
func TestEndlessHandler(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a timeout")
	}
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	c := course(t)
	l, _ := c.Lesson("02")
	ws := filepath.Join(t.TempDir(), "ws")
	if _, _, code := tutor(t, ws, "init", "--no-warm"); code != 0 {
		t.Fatal("init failed")
	}
	src := string(l.Solution().Files[l.Files[0]])
	i := strings.Index(src, "func Ping(c *loop.Ctx) string {")
	if i < 0 {
		t.Fatal("lesson 02's solution has no Ping handler to replace")
	}
	endless := src[:i] + "func Ping(c *loop.Ctx) string {\n\tfor {\n\t}\n}\n\nvar _ = time.Second\n"
	if err := os.WriteFile(filepath.Join(ws, l.ID, l.Files[0]), []byte(endless), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, code := checkJSON(t, ws, "02")
	took := time.Since(start)
	if code != 1 || res.Verdict != checker.Timeout || res.Running == "" {
		t.Fatalf("exit %d, verdict %s, running %q; want 1, timeout and the check that was running", code, res.Verdict, res.Running)
	}
	if limit := l.Timeout + 5*time.Second; took > limit+time.Duration(res.Phases["build"])*time.Millisecond {
		t.Errorf("timeout reported after %v, want within %v (+ the compile)", took, limit)
	}
	t.Logf("timeout after %v (limit %v); running: %s; blocked: %v", took.Round(time.Millisecond), l.Timeout, res.Running, res.Blocked)

	// Again in the terminal, the build now warm (a link, well under the
	// note's 4 s): the checks run for the whole limit, and the note about
	// a slow first compile must not claim it is still compiling.
	out, errOut, code := tutor(t, ws, "check", "02")
	if code != 1 || !strings.Contains(out, "TIMEOUT") {
		t.Errorf("check 02 again: exit %d, stdout %q; want 1 and TIMEOUT", code, out)
	}
	if strings.Contains(errOut, "still compiling") {
		t.Errorf("check 02 with a warm build printed %q while its checks ran", errOut)
	}
	time.Sleep(300 * time.Millisecond)
	if left := processesIn(t, ws); len(left) > 0 {
		t.Errorf("a process of the check is still running:\n%s", strings.Join(left, "\n"))
	}
}

// processesIn lists the processes whose working directory is ws or below:
// the checks of a workspace run in its lesson directories, and other
// tests' processes (of other workspaces) are not counted. On Linux only;
// it fails the test where /proc cannot be read.
func processesIn(t *testing.T, ws string) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("finds processes through /proc")
	}
	if real, err := filepath.EvalSymlinks(ws); err == nil {
		ws = real
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("cannot list processes in /proc (%v)", err)
	}
	var out []string
	for _, d := range dirs {
		cwd, err := os.Readlink(filepath.Join(d, "cwd"))
		if err != nil || (cwd != ws && !strings.HasPrefix(cwd, ws+string(filepath.Separator))) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, filepath.Base(d)+" "+strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " "))
	}
	return out
}

// TestWatchSaysWhatGoesOn: `tutor help watch` lists the keys, and after a
// pass the terminal names the key and the lesson that come next.
func TestWatchSaysWhatGoesOn(t *testing.T) {
	out, _, code := tutor(t, t.TempDir(), "help", "watch")
	if code != 0 {
		t.Fatalf("tutor help watch: exit %d", code)
	}
	for _, k := range []string{"h  the next hint", "n  go on to the next lesson", "c  check every lesson", "q  quit"} {
		if !strings.Contains(out, k) {
			t.Errorf("tutor help watch does not list %q:\n%s", k, out)
		}
	}
	c := course(t)
	a, err := app.New(c, &workspace.Workspace{}, "")
	if err != nil {
		t.Skip(err)
	}
	l, _ := c.Lesson("02")
	if got, want := nextKey(a, l), "press n for 03 · "; !strings.Contains(got, want) {
		t.Errorf("nextKey(02) = %q, want it to contain %q", got, want)
	}
	last := c.Lessons[len(c.Lessons)-1]
	if got := nextKey(a, last); !strings.Contains(got, "last lesson") {
		t.Errorf("nextKey(%s) = %q, want it to say it was the last lesson", last.ID, got)
	}
}

// TestGoAtLeast: the doctor's version rule, including versions a substring
// test gets wrong (Go 1.30 contains no "go1.2").
func TestGoAtLeast(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want bool
	}{
		{"go version go1.26.8 linux/amd64", true},
		{"go version go1.26 linux/amd64", true},
		{"go version go1.26rc1 linux/amd64", true},
		{"go version go1.30.1 darwin/arm64", true},
		{"go version go2.0 linux/amd64", true},
		{"go version go1.25.9 linux/amd64", false},
		{"go version go1.3 linux/amd64", false},
		{"go version devel go1.27-abcdef Tue linux/amd64", true},
		{"not go at all", false},
	} {
		if got := goAtLeast(tc.out, "go1.26"); got != tc.want {
			t.Errorf("goAtLeast(%q, go1.26) = %t, want %t", tc.out, got, tc.want)
		}
	}
}

// TestInsideWorkspace: run from inside a workspace (its root or a lesson
// directory), a command uses that workspace, as --workspace would, and
// creates no workspace inside it.
func TestInsideWorkspace(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	if _, _, code := tutor(t, ws, "init", "--no-warm"); code != 0 {
		t.Fatal("init failed")
	}
	want, _, code := tutor(t, ws, "list", "--json", "--workspace", ws)
	if code != 0 {
		t.Fatalf("list --workspace: exit %d", code)
	}
	for _, dir := range []string{ws, filepath.Join(ws, "02-event-loop")} {
		cmd := exec.Command(tutorBin, "list", "--json")
		cmd.Dir = dir
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TUTOR_WORKSPACE=") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("tutor list in %s: %v", dir, err)
		}
		if string(got) != want {
			t.Errorf("tutor list in %s =\n%s\nwant the same as with --workspace:\n%s", dir, got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "tutor-workspace")); err == nil {
			t.Errorf("a workspace was created inside the workspace, at %s", filepath.Join(dir, "tutor-workspace"))
		}
	}
}
