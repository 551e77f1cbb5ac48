package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gotutor/tutor/lessons"
)

// stormSaves and stormEvery make the storm: 100 saves in 10 s.
const (
	stormSaves = 100
	stormEvery = 100 * time.Millisecond
)

// rssMargin is how much the tutor's resident size may grow between before
// the storm and 2 s after it has settled. Measured on the project's 2-core
// box in four runs: -0.2, +1.2, +1.3 and +1.3 MiB (from about 24 MiB; the
// Go runtime keeps some freed heap before returning it to the OS). 10 MiB
// is several times the worst of those, so garbage-collector timing does not
// make the test flaky, yet anything the tutor kept per save of 100 KiB or
// more (a result, a check's output, a file's content) shows. Smaller leaks,
// such as one goroutine per save, are below what RSS can tell.
const rssMargin = 10 << 20

// TestSaveStorm saves a lesson file 100 times in 10 seconds in a mix of
// editor styles while the lesson page is open. Afterwards the tutor must
// still run and answer, the page must settle on the verdict of the final
// content (the reference solution, saved right after wrong variants) and
// keep it, no process of a check may be left behind, and the tutor's memory
// must be back near where it started.
func TestSaveStorm(t *testing.T) {
	c := course(t)
	l, err := c.Lesson("02")
	if err != nil {
		t.Fatal(err)
	}
	s := startTutor(t)
	name := l.Files[0]
	file := filepath.Join(s.ws, l.ID, name)
	pid := tutorPID(t, s.ws)

	// The tutor checks nothing by itself: save once and wait for that
	// check, so memory is measured after the tutor has run one, with the
	// page open.
	first := append(append([]byte{}, l.Starter().Files[name]...), "\n// first save\n"...)
	if err := os.WriteFile(file, first, 0o644); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, s, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(l.ID)+`  `), 3*time.Minute)
	// The tutor warms the build cache in the background (it yields to every
	// save); let it finish, so what runs after the storm is the storm's.
	waitIdle(t, s.ws, 3*time.Minute)
	ctx, _ := tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"lesson/"+l.ID), chromedp.WaitReady(chromedp.ID("verdict"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	before := rssOf(t, pid)

	saves := stormContents(l)
	styles := saveStyles(t, file)
	checksBefore := strings.Count(s.out.String(), "\n"+l.ID+"  ")
	start := time.Now()
	var peak int64
	for i, content := range saves {
		if d := time.Until(start.Add(time.Duration(i) * stormEvery)); d > 0 {
			time.Sleep(d)
		}
		st := styles[i%len(styles)]
		if err := st.save(content); err != nil {
			t.Fatalf("save %d (%s): %v", i+1, st.name, err)
		}
		if i%10 == 0 {
			peak = max(peak, rssOf(t, pid))
		}
	}
	storm := time.Since(start)
	final := saves[len(saves)-1]
	if b, _ := os.ReadFile(file); !bytes.Equal(b, final) {
		t.Fatalf("after the storm the file does not hold the final content (%s saved it)", styles[(len(saves)-1)%len(styles)].name)
	}
	names := make([]string, len(styles))
	for i, st := range styles {
		names[i] = st.name
	}
	t.Logf("%d saves in %v (%s)", len(saves), storm.Round(time.Millisecond), strings.Join(names, ", "))

	// The verdict of the final content, then no change for 3 s.
	settle := waitVerdict(t, ctx, "pass", 30*time.Second)
	t.Logf("pass shown %v after the last save", settle.Round(time.Millisecond))
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if v := verdict(ctx); v != "pass" {
			t.Fatalf("data-verdict changed to %q after settling on pass", v)
		}
	}
	out := s.out.String()
	i := strings.LastIndex(out, "\n"+l.ID+"  ")
	if i < 0 || !strings.HasPrefix(out[i+1:], l.ID+"  pass") {
		t.Errorf("the tutor's last result line for %s is not a pass:\n%s", l.ID, out[max(i, 0):])
	}
	t.Logf("results printed for %s during the storm and after it: %d", l.ID, strings.Count(out, "\n"+l.ID+"  ")-checksBefore)

	// Still alive and answering.
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the tutor (pid %d) is gone: %v", pid, err)
	}
	resp, err := http.Get(s.url + "lesson/" + l.ID)
	if err != nil {
		t.Fatalf("the tutor does not answer after the storm: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /lesson/%s after the storm = %d, want 200", l.ID, resp.StatusCode)
	}
	if m := crashRE.FindString(out); m != "" {
		t.Errorf("the tutor printed %q:\n%s", m, out)
	}

	// Nothing of the checks left running.
	if left := processesIn(t, s.ws); len(left) > 0 {
		t.Errorf("processes left running in the workspace after the storm:\n%s", strings.Join(left, "\n"))
	}

	// Memory back near where it started.
	time.Sleep(2 * time.Second)
	after := rssOf(t, pid)
	t.Logf("tutor RSS: %.1f MiB before, peak sampled %.1f MiB during, %.1f MiB after (%+.1f MiB)",
		mb(before), mb(peak), mb(after), mb(after-before))
	if after > before+rssMargin {
		t.Errorf("tutor RSS after the storm = %.1f MiB, want at most %.1f MiB (%.1f before + %.0f)", mb(after), mb(before+rssMargin), mb(before), mb(rssMargin))
	}
}

// crashRE matches the first line of a Go crash report.
var crashRE = regexp.MustCompile(`(?m)^(panic: |fatal error: ).*`)

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// stormContents returns what the storm saves, in order: the lesson's
// variants in turn, each with a distinct comment so that every save changes
// the file; the last four are wrong, and the very last is the reference
// solution, so a missed final save would leave a failing verdict.
func stormContents(l *lessons.Lesson) [][]byte {
	name := l.Files[0]
	var all, wrong [][]byte
	for _, v := range l.Variants {
		all = append(all, v.Files[name])
		if v.Expect == lessons.MustFail {
			wrong = append(wrong, v.Files[name])
		}
	}
	out := make([][]byte, stormSaves)
	for i := range stormSaves - 5 {
		out[i] = all[i%len(all)]
	}
	for i := stormSaves - 5; i < stormSaves-1; i++ {
		out[i] = wrong[i%len(wrong)]
	}
	for i := range stormSaves - 1 {
		out[i] = fmt.Appendf(bytes.Clone(out[i]), "\n// storm save %d\n", i+1)
	}
	out[stormSaves-1] = l.Solution().Files[name]
	return out
}

// saveStyle is one way an editor saves a file.
type saveStyle struct {
	name string
	save func(content []byte) error
}

// saveStyles returns the editor styles of the storm: an in-place write,
// write then rename, sed -i, and vim when it is installed.
func saveStyles(t *testing.T, file string) []saveStyle {
	src := filepath.Join(t.TempDir(), "content")
	viaFile := func(b []byte, cmd ...string) error {
		if err := os.WriteFile(src, b, 0o644); err != nil {
			return err
		}
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", cmd[0], err, out)
		}
		return nil
	}
	styles := []saveStyle{
		{"in-place write", func(b []byte) error { return os.WriteFile(file, b, 0o644) }},
		{"write then rename", func(b []byte) error {
			tmp := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".storm-tmp")
			if err := os.WriteFile(tmp, b, 0o644); err != nil {
				return err
			}
			return os.Rename(tmp, file)
		}},
		{"sed -i", func(b []byte) error { return viaFile(b, "sed", "-i", "-e", "$r "+src, "-e", "d", file) }},
	}
	if _, err := exec.LookPath("vim"); err == nil {
		styles = append(styles, saveStyle{"vim", func(b []byte) error {
			return viaFile(b, "vim", "-N", "-u", "DEFAULTS", "-i", "NONE", "-n", "--cmd", "set backupskip=",
				"-es", "-c", "%d", "-c", "0r "+src, "-c", "wq", file)
		}})
	} else {
		t.Log("vim is not installed: the storm saves in the other styles")
	}
	styles = append(styles, saveStyle{"JetBrains safe write", func(b []byte) error { return jetbrainsSave(file, b) }})
	return styles
}

// jetbrainsSave saves as JetBrains IDEs do with "safe write" on: the new
// content goes to a temporary file, the old file is renamed aside, the
// temporary file takes its name, and the old one is deleted. For a moment
// the file does not exist at all.
func jetbrainsSave(file string, b []byte) error {
	tmp, old := file+"___jb_tmp___", file+"___jb_old___"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(file, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		return err
	}
	return os.Remove(old)
}

// tutorPID finds the process of the tutor serving workspace ws.
func tutorPID(t *testing.T, ws string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) > 1 && args[0] == tutorBin && args[len(args)-1] == ws {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	t.Fatalf("no process of %s serving %s", tutorBin, ws)
	return 0
}

// rssOf returns the resident size of process pid (VmRSS), without children.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the tutor's memory: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// processesIn lists processes whose working directory is inside ws: the go
// command of a check runs in the workspace, the compiler and the test
// binary (02-event-loop.test) in the lesson's directory. A plain
// `pgrep -f 02-event-loop.test` would also see other runs of the same lesson
// on a shared machine; the working directory tells this tutor's apart.
func processesIn(t *testing.T, ws string) []string {
	t.Helper()
	if real, err := filepath.EvalSymlinks(ws); err == nil {
		ws = real // working directories are reported resolved
	}
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
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

// waitIdle waits until no process has run in the workspace for a second.
func waitIdle(t *testing.T, ws string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	quiet := time.Now()
	for time.Now().Before(deadline) {
		if len(processesIn(t, ws)) > 0 {
			quiet = time.Now()
		} else if time.Since(quiet) > time.Second {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("processes still running in the workspace after %v:\n%s", limit, strings.Join(processesIn(t, ws), "\n"))
}

// waitOutput waits until the tutor's output matches re.
func waitOutput(t *testing.T, s *server, re *regexp.Regexp, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if re.MatchString(s.out.String()) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the tutor's output did not match %q within %v:\n%s", re, limit, s.out)
}
