package workspace

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDamagedProgressIsKeptAside: random bytes, an empty file and a cut
// short one each load as fresh progress, the damaged file is renamed aside
// with its bytes intact (never deleted), the learner is told once where it
// went, and the next update saves normally.
func TestDamagedProgressIsKeptAside(t *testing.T) {
	good := []byte(`{"version":1,"lessons":{"01-demo":{"status":"passed","attempts":2,"hints_shown":1,"assisted":false}}}`)
	junk := make([]byte, 512)
	rand.Read(junk)
	junk[0] = 0xff // never valid JSON
	cases := map[string][]byte{
		"random bytes":  junk,
		"empty":         {},
		"blank":         []byte("  \n"),
		"truncated":     good[:len(good)/2],
		"not an object": []byte(`[1,2,3]`),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			w := &Workspace{Root: t.TempDir()}
			s := w.Progress()
			if err := os.MkdirAll(filepath.Dir(s.Path()), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), content, 0o644); err != nil {
				t.Fatal(err)
			}
			var told []Damaged
			s.OnDamaged(func(d Damaged) { told = append(told, d) })
			for range 3 { // told once, however often it is loaded
				p, err := s.Load()
				if err != nil {
					t.Fatalf("Load: %v; want fresh progress", err)
				}
				if len(p.Lessons) != 0 {
					t.Fatalf("Load = %+v; want fresh progress", p)
				}
			}
			if len(told) != 1 {
				t.Fatalf("told %d times (%+v); want once", len(told), told)
			}
			d := told[0]
			if d.Kept == "" || filepath.Dir(d.Kept) != filepath.Dir(s.Path()) || !strings.Contains(filepath.Base(d.Kept), "damaged") {
				t.Fatalf("kept as %q; want a .damaged- file beside %s (move error %v)", d.Kept, s.Path(), d.MoveErr)
			}
			if got, err := os.ReadFile(d.Kept); err != nil || !bytes.Equal(got, content) {
				t.Errorf("kept file %s: %v, bytes equal %v; want the damaged bytes, unchanged", d.Kept, err, bytes.Equal(got, content))
			}
			if msg := d.Message(); !strings.Contains(msg, d.Kept) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line naming %s", msg, d.Kept)
			}
			if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the damaged file is still at %s (%v)", s.Path(), err)
			}
			if _, err := s.Update(func(p *Progress) { p.Lesson("01-demo").HintsShown = 1 }); err != nil {
				t.Fatalf("Update after the damage: %v", err)
			}
			p, err := w.Progress().Load()
			if err != nil || p.Lessons["01-demo"] == nil || p.Lessons["01-demo"].HintsShown != 1 {
				t.Errorf("after the update: %+v, %v", p, err)
			}
		})
	}
}

// TestDamageFoundByUpdate: an update that finds the file damaged keeps it
// aside too, and saves.
func TestDamageFoundByUpdate(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	s := w.Progress()
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	os.WriteFile(s.Path(), []byte("{\"version\":1,\"less"), 0o644)
	var told []Damaged
	s.OnDamaged(func(d Damaged) { told = append(told, d) })
	if _, err := s.Update(func(p *Progress) { p.Lesson("x").HintsShown = 2 }); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0].Kept == "" {
		t.Fatalf("told %+v; want one damage with the kept file", told)
	}
	if b, _ := os.ReadFile(told[0].Kept); string(b) != "{\"version\":1,\"less" {
		t.Errorf("kept file holds %q", b)
	}
}

// TestConcurrentUpdatesKeepEveryChange: six handles (as six tutor processes
// would have) update different lessons at once, many times; every update
// survives. Separate handles share no mutex, so only the file lock keeps
// the read-modify-writes apart.
func TestConcurrentUpdatesKeepEveryChange(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	const handles, rounds = 6, 30
	var wg sync.WaitGroup
	errs := make(chan error, handles*rounds)
	for i := range handles {
		s := w.Progress()
		wg.Go(func() {
			for range rounds {
				if _, err := s.Update(func(p *Progress) { p.Lesson(fmt.Sprintf("%02d", i)).HintsShown++ }); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	p, err := w.Progress().Load()
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := range handles {
		lp := p.Lessons[fmt.Sprintf("%02d", i)]
		if lp == nil {
			lost += rounds
			continue
		}
		lost += rounds - lp.HintsShown
	}
	if lost != 0 {
		t.Errorf("%d of %d updates were lost", lost, handles*rounds)
	}
}

// TestClaimServe: one claim at a time; a second says who holds it and
// where; a released claim, or one whose holder died, is taken over.
func TestClaimServe(t *testing.T) {
	w := &Workspace{Root: t.TempDir()}
	c1, err := w.ClaimServe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Announce("http://127.0.0.1:7070/"); err != nil {
		t.Fatal(err)
	}
	_, err = w.ClaimServe()
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Other.URL != "http://127.0.0.1:7070/" || busy.Other.PID != os.Getpid() {
		t.Fatalf("second claim: %v (%+v); want busy, naming http://127.0.0.1:7070/ and pid %d", err, busy, os.Getpid())
	}
	if !strings.Contains(err.Error(), "http://127.0.0.1:7070/") {
		t.Errorf("message %q does not name the URL", err)
	}
	if err := c1.Release(); err != nil {
		t.Fatal(err)
	}
	c2, err := w.ClaimServe()
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	c2.Release()

	// A stale file from a process that is gone (its lock went with it).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` to make a dead pid:", err)
	}
	stale := fmt.Sprintf(`{"pid":%d,"url":"http://127.0.0.1:7099/","started":"%s"}`, dead.Process.Pid, time.Now().Format(time.RFC3339))
	os.WriteFile(w.serveLockPath(), []byte(stale), 0o644)
	c3, err := w.ClaimServe()
	if err != nil {
		t.Fatalf("claim over a stale file of dead pid %d: %v", dead.Process.Pid, err)
	}
	c3.Announce("http://127.0.0.1:7071/")
	if s, ok := readServing(w.serveLockPath()); !ok || s.URL != "http://127.0.0.1:7071/" || s.PID != os.Getpid() {
		t.Errorf("after taking over: %+v", s)
	}
	c3.Release()
}

// TestStatusNames: one name per state, in words and in JSON, and a progress
// file from before the rename still reads "failing" as in progress.
func TestStatusNames(t *testing.T) {
	for s, want := range map[Status]string{NotStarted: "not started", InProgress: "in progress", Passed: "passed"} {
		if got := s.Text(); got != want {
			t.Errorf("%q.Text() = %q, want %q", s, got, want)
		}
	}
	var p Progress
	if err := json.Unmarshal([]byte(`{"version":1,"lessons":{"02-event-loop":{"status":"failing"},"01-measure":{"status":"passed"}}}`), &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Lessons["02-event-loop"].Status; got != InProgress {
		t.Errorf("an old \"failing\" reads as %q, want %q", got, InProgress)
	}
	if got := p.Lessons["01-measure"].Status; got != Passed {
		t.Errorf("\"passed\" reads as %q", got)
	}
	b, _ := json.Marshal(p.Lessons["02-event-loop"])
	if !strings.Contains(string(b), `"status":"in-progress"`) {
		t.Errorf("written back as %s, want status in-progress", b)
	}
}

// TestNoWorkspaceInsideAnother: a directory inside a workspace is found as
// that workspace, and opening a workspace inside it is refused.
func TestNoWorkspaceInsideAnother(t *testing.T) {
	outer := &Workspace{Root: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(outer.Root, StateDir), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outer.Root, "go.mod"), GoMod(), 0o644)
	sub := filepath.Join(outer.Root, "02-event-loop")
	os.MkdirAll(sub, 0o755)
	if got := Enclosing(sub); got != outer.Root {
		t.Errorf("Enclosing(%s) = %q, want %s", sub, got, outer.Root)
	}
	if got := Enclosing(outer.Root); got != outer.Root {
		t.Errorf("Enclosing(the root) = %q, want itself", got)
	}
	if _, err := Open(filepath.Join(outer.Root, DefaultDir)); !errors.Is(err, ErrNested) {
		t.Errorf("Open inside a workspace: %v, want ErrNested", err)
	}
	if _, err := Open(outer.Root); err != nil {
		t.Errorf("Open the workspace itself: %v", err)
	}
	if got := Enclosing(t.TempDir()); got != "" {
		t.Errorf("Enclosing(a plain directory) = %q, want none", got)
	}
}
