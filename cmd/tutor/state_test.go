//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
)

// learnerSums hashes every file of the workspace outside .tutor/.
func learnerSums(t *testing.T, ws string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".tutor" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		sums[p] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func sameSums(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	if len(before) == 0 {
		t.Fatal("no learner files hashed")
	}
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s changed the learner's file %s", what, p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%s: %d learner files before, %d after", what, len(before), len(after))
	}
}

func newWorkspace(t *testing.T) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	if out, errOut, code := tutor(t, ws, "init", "--no-warm"); code != 0 {
		t.Fatalf("init: exit %d: %s %s", code, out, errOut)
	}
	return ws
}

// damage writes one kind of damaged progress file and returns its bytes.
func damage(t *testing.T, ws, kind string) []byte {
	t.Helper()
	var b []byte
	switch kind {
	case "random bytes":
		b = make([]byte, 4096)
		rand.Read(b)
		b[0] = 0x9c // not JSON, whatever follows
	case "empty":
		b = []byte{}
	case "truncated":
		b = []byte(`{"version": 1, "lessons": {"02-event-loop": {"status": "passed", "attemp`)
	}
	if err := os.WriteFile(filepath.Join(ws, ".tutor", "progress.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

var keptRE = regexp.MustCompile(`kept it as (\S+\.damaged-\S+\.json)`)

// checkKept checks that stderr says, in one line, where the damaged bytes
// went, and that they are there.
func checkKept(t *testing.T, what, stderr string, want []byte) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "damaged") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("%s: %d lines about the damage in %q; want one", what, len(lines), stderr)
		return
	}
	m := keptRE.FindStringSubmatch(lines[0])
	if m == nil {
		t.Errorf("%s: %q does not name the kept file", what, lines[0])
		return
	}
	got, err := os.ReadFile(m[1])
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s: kept file %s: %v, same bytes %v; want the damaged bytes", what, m[1], err, bytes.Equal(got, want))
	}
}

// TestDamagedProgressEveryCommand: random bytes, an empty file or a cut
// short one in .tutor/progress.json; every command keeps it aside, says so
// in one line naming the kept file, goes on with fresh progress and leaves
// the learner's files alone.
func TestDamagedProgressEveryCommand(t *testing.T) {
	ws := newWorkspace(t)
	before := learnerSums(t, ws)
	cmds := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"list"}, 0, "0 of "},
		{[]string{"list", "--json"}, 0, `"status": "not-started"`},
		{[]string{"hint", "02"}, 0, "Hint 1 of"},
		{[]string{"solution", "02", "--force"}, 0, "reference solution"},
		{[]string{"solution", "03"}, 2, ""}, // not passed: refused, after the recovery
		{[]string{"reset", "--undo", "04"}, 2, ""},
	}
	for _, kind := range []string{"random bytes", "empty", "truncated"} {
		for _, c := range cmds {
			what := fmt.Sprintf("%v on %s", c.args, kind)
			b := damage(t, ws, kind)
			out, errOut, code := tutor(t, ws, c.args...)
			if code != c.code || !strings.Contains(out, c.out) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", what, code, out, errOut, c.code, c.out)
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "move it away") {
				t.Errorf("%s: %s", what, errOut)
			}
			checkKept(t, what, errOut, b)
		}
	}
	sameSums(t, "commands on a damaged progress file", before, learnerSums(t, ws))
}

// served is a running `tutor serve`.
type served struct {
	cmd  *exec.Cmd
	url  string   // the first URL printed
	urls []string // every URL printed
	mu   sync.Mutex
	out  bytes.Buffer // stdout and stderr so far
	done chan struct{}
}

func (s *served) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// startServe starts `tutor serve` on ws and waits for its URL. It is
// stopped (SIGINT, then SIGKILL of its process group) when the test ends.
func startServe(t *testing.T, ws string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(tutorBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
	return startServeCmd(t, ws, cmd)
}

func startServeCmd(t *testing.T, ws string, cmd *exec.Cmd) *served {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, done: make(chan struct{})}
	urlRE := regexp.MustCompile(`http://\S+`)
	found := make(chan struct{})
	// The reader ends when the process has exited and the pipe is closed.
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			if strings.HasPrefix(line, "The course is at ") || strings.HasPrefix(line, "From this machine: ") {
				s.urls = append(s.urls, urlRE.FindString(line))
				s.url = s.urls[0]
			}
			if strings.HasPrefix(line, "Your workspace is ") {
				close(found) // printed once, after the URLs
			}
			s.mu.Unlock()
		}
	}()
	// The waiter ends when the process exits.
	go func() {
		cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case <-found:
	case <-s.done:
		t.Fatalf("tutor serve exited before serving:\n%s", s.output())
	case <-time.After(90 * time.Second):
		t.Fatalf("tutor serve printed no URL within 90 s:\n%s", s.output())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s
}

func (s *served) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("tutor serve did not stop within 10 s of SIGINT")
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeDamagedProgress: random bytes in .tutor/progress.json; serve
// starts, serves the course, names the kept file, and leaves the learner's
// files byte for byte as they were.
func TestServeDamagedProgress(t *testing.T) {
	ws := newWorkspace(t)
	b := damage(t, ws, "random bytes")
	before := learnerSums(t, ws)
	s := startServe(t, ws, "--addr", "127.0.0.1:0")
	code, body := get(t, http.DefaultClient, s.url)
	if code != 200 || !strings.Contains(body, "Course map") {
		t.Errorf("GET %s = %d; want the course map", s.url, code)
	}
	code, body = get(t, http.DefaultClient, strings.TrimSuffix(s.url, "/")+"/lesson/02-event-loop")
	if code != 200 || !strings.Contains(body, "Your task") {
		t.Errorf("GET the lesson = %d; want the lesson page", code)
	}
	s.stop(t)
	out := s.output()
	if strings.Contains(out, "panic") {
		t.Fatalf("serve panicked:\n%s", out)
	}
	checkKept(t, "serve", out, b)
	sameSums(t, "serve on a damaged progress file", before, learnerSums(t, ws))
}

// TestSixHintsAtOnce: six `tutor hint` processes on six lessons at once,
// three rounds: every one of the 18 hints is remembered.
func TestSixHintsAtOnce(t *testing.T) {
	ws := newWorkspace(t)
	c := course(t)
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		var cmds []*exec.Cmd
		for _, l := range c.Lessons {
			cmd := exec.Command(tutorBin, "hint", l.Number)
			cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("tutor hint: %v", err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(ws, ".tutor", "progress.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Lessons map[string]struct {
			HintsShown int `json:"hints_shown"`
		} `json:"lessons"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, l := range c.Lessons {
		kept += min(p.Lessons[l.ID].HintsShown, rounds)
	}
	if want := rounds * len(c.Lessons); kept != want {
		t.Errorf("%d of %d hints remembered after %d rounds of %d `tutor hint` at once; progress:\n%s", kept, want, rounds, len(c.Lessons), b)
	}
}

// TestServeOnePerWorkspace: a second serve on the same workspace says
// where the first one is and exits non-zero; once the first is killed
// (kill -9, leaving its lock file behind), the next one takes over. The
// server closes an idle keep-alive connection and a request whose body
// comes one byte every 2 s well before 30 s.
func TestServeOnePerWorkspace(t *testing.T) {
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	ws := newWorkspace(t)
	first := startServe(t, ws, "--addr", "127.0.0.1:0")

	start := time.Now()
	out, errOut, code := tutorTimeout(t, ws, 30*time.Second, "serve", "--addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "another tutor is already serving this workspace at "+first.url) {
		t.Errorf("second serve: exit %d after %.1f s, stdout %q, stderr %q; want non-zero, naming %s", code, time.Since(start).Seconds(), out, errOut, first.url)
	}
	if strings.Contains(out, "The course is at") {
		t.Errorf("second serve served: %s", out)
	}

	host := strings.TrimSuffix(strings.TrimPrefix(first.url, "http://"), "/")
	const limit = 20 * time.Second // "well before 30 s"
	var wg sync.WaitGroup
	wg.Go(func() { // an idle keep-alive connection
		c := dial(t, host)
		io.WriteString(c, "GET /static/site.js HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("first request on the keep-alive connection: %v %v", resp, err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		idle := time.Now()
		_, err = br.ReadByte() // nothing comes: this ends when the server closes
		if d := time.Since(idle); d > limit {
			t.Errorf("an idle keep-alive connection stayed open %.1f s (%v); want it closed within %s", d.Seconds(), err, limit)
		} else {
			t.Logf("idle keep-alive connection closed after %.1f s (%v)", d.Seconds(), err)
		}
	})
	wg.Go(func() { // a body one byte every 2 s
		c := dial(t, host)
		io.WriteString(c, "POST /api/lesson/02/hint HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
		slow := time.Now()
		closed := make(chan error, 1)
		// The reader ends when the server closes the connection (or at the dial deadline).
		go func() {
			_, err := io.Copy(io.Discard, c)
			closed <- err
		}()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case err := <-closed:
				if d := time.Since(slow); d > limit {
					t.Errorf("a body sent one byte every 2 s kept its connection %.1f s; want it closed within %s", d.Seconds(), limit)
				} else {
					t.Logf("slow body: connection closed after %.1f s (%v)", d.Seconds(), err)
				}
				return
			case <-tick.C:
				c.Write([]byte("a"))
			}
		}
	})
	wg.Wait()

	// kill -9: the lock file stays, naming a dead pid; the next serve takes over.
	syscall.Kill(-first.cmd.Process.Pid, syscall.SIGKILL)
	<-first.done
	lock, err := os.ReadFile(filepath.Join(ws, ".tutor", "serve.lock"))
	if err != nil || !strings.Contains(string(lock), fmt.Sprintf(`"pid":%d`, first.cmd.Process.Pid)) {
		t.Errorf("after kill -9, serve.lock = %q (%v); want the dead server's pid in it", lock, err)
	}
	third := startServe(t, ws, "--addr", "127.0.0.1:0")
	if code, _ := get(t, http.DefaultClient, third.url); code != 200 {
		t.Errorf("the serve that took over answers %d", code)
	}
}

// tutorTimeout is tutor with a time limit, for a command that should end by
// itself (a second serve) but would serve forever if it did not.
func tutorTimeout(t *testing.T, ws string, limit time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, tutorBin, args...)
	cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("tutor %v was still running after %s", args, limit)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Errorf("run tutor %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func dial(t *testing.T, host string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(40 * time.Second))
	return c
}

// TestServeToken: on 0.0.0.0 the tutor prints a URL with a token; without
// it every request gets 401 and changes nothing; the printed URL works (on
// the machine's address, which the Host check allows), and its cookie lets
// the buttons act.
func TestServeToken(t *testing.T) {
	ws := newWorkspace(t)
	s := startServe(t, ws, "--addr", "0.0.0.0:0")
	u := s.url
	tokIdx := strings.Index(u, "?token=")
	if tokIdx < 0 || len(u)-tokIdx-len("?token=") < 32 {
		t.Fatalf("printed URL %q has no token", u)
	}
	base := u[:tokIdx]
	if strings.Contains(base, "0.0.0.0") {
		t.Errorf("printed URL %q uses 0.0.0.0, which no other machine can open", u)
	}
	progress := filepath.Join(ws, ".tutor", "progress.json")
	before, _ := os.ReadFile(progress)

	for _, path := range []string{"", "lesson/02-event-loop", "static/site.js", "events", "favicon.ico", "?token=guess"} {
		if code, body := get(t, http.DefaultClient, base+path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token = %d %q, want 401", base+path, code, body)
		}
	}
	for _, action := range []string{"hint", "solution?force=1", "reset", "check"} {
		resp, err := http.Post(base+"api/lesson/02/"+action, "application/x-www-form-urlencoded", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without the token = %d, want 401", action, resp.StatusCode)
		}
	}
	if after, _ := os.ReadFile(progress); !bytes.Equal(before, after) {
		t.Errorf("refused requests changed the progress:\n%s\n→\n%s", before, after)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	for _, url := range s.urls {
		if code, body := get(t, browser, url); code != 200 || !strings.Contains(body, "Course map") {
			t.Errorf("GET the printed %s = %d; want the course map", url, code)
		}
	}
	if code, _ := get(t, browser, base+"lesson/02-event-loop"); code != 200 {
		t.Errorf("GET a lesson with the cookie = %d, want 200", code)
	}
	resp, err := browser.Post(base+"api/lesson/02/hint", "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after, _ := os.ReadFile(progress)
	if resp.StatusCode >= 400 || !strings.Contains(string(after), `"hints_shown": 1`) {
		t.Errorf("POST hint with the cookie = %d, progress %s; want the hint revealed", resp.StatusCode, after)
	}
}

// readOnly runs the tutor on a workspace it cannot write to. As root,
// file modes do not stop writes, so the tutor runs without the
// capabilities that bypass them (setpriv).
func readOnly(t *testing.T, ws string, args ...string) (string, string, int) {
	t.Helper()
	cmd := readOnlyCmd(t, ws, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return out.String(), errb.String(), code
}

func readOnlyCmd(t *testing.T, ws string, args ...string) *exec.Cmd {
	t.Helper()
	name, full := tutorBin, args
	if os.Geteuid() == 0 {
		sp, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root without setpriv: cannot make a workspace read-only for the tutor")
		}
		name = sp
		full = append([]string{"--bounding-set", "-dac_override,-dac_read_search,-fowner", tutorBin}, args...)
	}
	cmd := exec.Command(name, full...)
	cmd.Env = append(os.Environ(), "TUTOR_WORKSPACE="+ws)
	return cmd
}

// TestReadOnlyWorkspace: in a workspace the tutor cannot write to, check
// prints its verdict and then one line that progress could not be saved;
// hint shows the hint the same way.
func TestReadOnlyWorkspace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs checks")
	}
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	ws := newWorkspace(t)
	chmodAll(t, ws, false)
	t.Cleanup(func() { chmodAll(t, ws, true) })
	if f, err := os.CreateTemp(filepath.Join(ws, ".tutor"), "probe"); err == nil && os.Geteuid() != 0 {
		f.Close()
		t.Skip("this file system ignores file modes")
	}

	out, errOut, code := readOnly(t, ws, "check", "02", "--json")
	var res checker.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Verdict != checker.Fail || code != 1 {
		t.Errorf("check --json on a read-only workspace: exit %d, verdict %q (%v); want exit 1 and the starter's fail\nstdout %s\nstderr %s", code, res.Verdict, err, out, errOut)
	}
	if n := strings.Count(errOut, "progress could not be saved"); n != 1 {
		t.Errorf("check: stderr %q; want one line saying progress could not be saved", errOut)
	}

	out, errOut, code = readOnly(t, ws, "check", "02")
	if code != 1 || !strings.Contains(out, "FAIL  02-event-loop") || !strings.Contains(errOut, "progress could not be saved") {
		t.Errorf("check: exit %d, stdout %q, stderr %q; want the verdict, then the note", code, out, errOut)
	}

	out, errOut, code = readOnly(t, ws, "hint", "02")
	if code != 0 || !strings.Contains(out, "Hint 1 of") || !strings.Contains(errOut, "progress could not be saved") {
		t.Errorf("hint: exit %d, stdout %q, stderr %q; want the hint, then the note", code, out, errOut)
	}

	// serve starts, says it is read-only, and serves the course.
	s := startServeCmd(t, ws, readOnlyCmd(t, ws, "serve", "--addr", "127.0.0.1:0"))
	if code, body := get(t, http.DefaultClient, s.url); code != 200 || !strings.Contains(body, "Course map") {
		t.Errorf("read-only serve: GET %s = %d; want the course map", s.url, code)
	}
	if out := s.output(); !strings.Contains(out, "is read-only") || !strings.Contains(out, "progress is not saved") {
		t.Errorf("read-only serve does not say so:\n%s", out)
	}
}

// chmodAll makes every directory and file under root writable or not.
func chmodAll(t *testing.T, root string, writable bool) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		mode := os.FileMode(0o444)
		if d.IsDir() {
			mode = 0o555
		}
		if writable {
			mode |= 0o200
		}
		os.Chmod(p, mode)
		return nil
	})
}
