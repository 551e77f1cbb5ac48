package app

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// TestProgressFromAnotherProcess: a hint revealed by `tutor hint` in a
// terminal (another process, another Store on the same file) reaches the
// page of a running tutor without any save or reload.
func TestProgressFromAnotherProcess(t *testing.T) {
	c, ws, _, lv := newTestLive(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { lv.Run(ctx, LiveOptions{NoWarm: true}) })
	updates := lv.Updates(ctx)
	id := c.Lessons[1].ID
	if got := lv.Snapshot().Lessons[id].HintsShown; got != 0 {
		t.Fatalf("hints shown at start = %d", got)
	}

	// What `tutor hint` does, from its own store.
	if _, err := ws.Progress().Update(func(p *workspace.Progress) { p.Lesson(id).HintsShown = 1 }); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Lesson == id && u.Kind == KindState {
				if u.State.HintsShown != 1 {
					t.Fatalf("state update carries %d hints shown, want 1", u.State.HintsShown)
				}
				// The same progress is not published again.
				select {
				case u := <-updates:
					if u.Kind == KindState {
						t.Fatalf("second state update for %s with nothing changed", u.Lesson)
					}
				case <-time.After(2500 * time.Millisecond):
				}
				return
			}
		case <-deadline:
			t.Fatal("no state update within 5 s of another process revealing a hint")
		}
	}
}

// TestSavesFirst: the tutor starts warming the build cache by itself, but a
// save never waits behind that: its check starts at once, and nothing is
// checked that the learner did not save.
func TestSavesFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lesson checks")
	}
	c, ws, a, lv := newTestLive(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	updates := lv.Updates(ctx)
	start := time.Now()
	wg.Go(func() { lv.Run(ctx, LiveOptions{}) })

	next := func(what string, ok func(Update) bool) Update {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case u := <-updates:
				if u.Kind == KindChecking && u.Lesson != c.Lessons[1].ID {
					t.Fatalf("checking %s, which nobody saved", u.Lesson)
				}
				if ok(u) {
					return u
				}
			case <-deadline:
				t.Fatalf("no %s within 60 s", what)
			}
		}
	}
	next("ready", func(u Update) bool { return u.Kind == KindNotice && u.Notice == "" })
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("ready %v after the start, want under 1.5 s", took.Round(time.Millisecond))
	}
	time.Sleep(300 * time.Millisecond) // the warm-up is building lesson 01's checks now

	l := c.Lessons[1]
	file := ws.LessonDir(l) + "/" + l.Files[0]
	if err := os.WriteFile(file, l.Solution().Files[l.Files[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	u := next("check of the save", func(u Update) bool { return u.Kind == KindChecking && u.Lesson == l.ID })
	waited := time.Since(u.Seen)
	t.Logf("the save's check started %v after the save was seen", waited.Round(time.Millisecond))
	r := next("result", func(u Update) bool { return u.Kind == KindResult && u.Lesson == l.ID })
	if waited > time.Second {
		// Measured once more on a new save (the warm-up, cancelled for the
		// first one, is building again): a tutor that holds saves back is
		// late both times, a machine that stalled once is not.
		src := append(slices.Clone(l.Solution().Files[l.Files[0]]), "\n// saved again\n"...)
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		u = next("check of the second save", func(u Update) bool { return u.Kind == KindChecking && u.Lesson == l.ID })
		waited = time.Since(u.Seen)
		t.Logf("the second save's check started %v after the save was seen", waited.Round(time.Millisecond))
		r = next("result", func(u Update) bool { return u.Kind == KindResult && u.Lesson == l.ID })
	}
	// Before, the save waited for every lesson's warm-up build (4 s and more
	// on a warm cache) and for a check of lesson 01 nobody asked for (6 s).
	if waited > time.Second {
		t.Errorf("the save's check started %v after the save was seen, want within 1 s", waited.Round(time.Millisecond))
	}
	if r.State.Result == nil || r.State.Result.Verdict != checker.Pass {
		t.Errorf("result for the solution = %+v, want pass", r.State.Result)
	}
	p, err := a.Progress.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range c.Lessons {
		if o.ID == l.ID {
			continue
		}
		if s := Status(p, o); s != workspace.NotStarted {
			t.Errorf("%s is %s after starting the tutor and saving only %s, want %s", o.ID, s, l.ID, workspace.NotStarted)
		}
	}
}

// TestSnapshotIsWhatIsJudged: a save's check judges exactly the bytes read
// when the save was noticed, and records their fingerprint, even if the
// file on disk changes while the check runs (the change's own save comes as
// a newer snapshot; here none comes, to show which bytes were judged).
func TestSnapshotIsWhatIsJudged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lesson's checks")
	}
	c, ws, a, lv := newTestLive(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	updates := lv.Updates(ctx)
	wg.Go(func() { lv.q.Run(ctx) }) // the queue without a watcher

	l := c.Lessons[1]
	file := ws.LessonDir(l) + "/" + l.Files[0]
	solution := l.Solution().Files[l.Files[0]]
	if err := os.WriteFile(file, solution, 0o644); err != nil {
		t.Fatal(err)
	}
	lv.trigger(l, time.Time{})
	if err := os.WriteFile(file, []byte("package broken\n\nfunc {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case u := <-updates:
			if u.Kind != KindResult || u.Lesson != l.ID {
				continue
			}
			if r := u.State.Result; r == nil || r.Verdict != checker.Pass {
				t.Fatalf("result = %+v, want pass: the check must judge the snapshot (the solution), not the broken file on disk", r)
			}
			p, err := a.Progress.Load()
			if err != nil {
				t.Fatal(err)
			}
			want := workspace.FingerprintOf(l, map[string][]byte{l.Files[0]: solution})
			if got := p.Lesson(l.ID).Checked; got != want {
				t.Errorf("recorded fingerprint %s, want %s (the snapshot's)", got, want)
			}
			return
		case <-deadline:
			t.Fatal("no result within 2 minutes")
		}
	}
}

// newTestLive returns the shipped course, a fresh workspace, its app and a
// live loop that is not running yet.
func newTestLive(t *testing.T) (*lessons.Course, *workspace.Workspace, *App, *Live) {
	t.Helper()
	c, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Init(c); err != nil {
		t.Fatal(err)
	}
	a, err := New(c, ws, "")
	if err != nil {
		t.Skip(err)
	}
	return c, ws, a, NewLive(a, "")
}
