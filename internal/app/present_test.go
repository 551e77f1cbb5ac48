package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/workspace"
)

// A correct version is not run for a lesson not passed, unless forced; a
// forced run marks the lesson assisted. Unknown versions are refused.
func TestDemoGate(t *testing.T) {
	_, _, a, lv := newTestLive(t)
	ctx := context.Background()
	if _, err := lv.Demo(ctx, "02", "solution", false); !errors.Is(err, ErrNotPassed) {
		t.Errorf("demo of the solution before passing = %v, want ErrNotPassed", err)
	}
	if _, err := lv.Demo(ctx, "02", "alt-await-timer", false); !errors.Is(err, ErrNotPassed) {
		t.Errorf("demo of an alternative solution before passing = %v, want ErrNotPassed", err)
	}
	if _, err := lv.Demo(ctx, "02", "../starter", false); err == nil || !strings.Contains(err.Error(), "no version") {
		t.Errorf("demo of an unknown version = %v", err)
	}
	p, _ := a.Progress.Load()
	if p.Lesson("02-event-loop").Assisted {
		t.Error("a refused demo marked the lesson assisted")
	}
}

// TestDemoSnapshot runs lesson 02's wrong and correct versions through the
// checks while the workspace holds the starter: the verdicts are the
// versions', the workspace file is untouched and no progress is recorded
// but "assisted" (the solution was run before passing, by choice).
func TestDemoSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("runs lesson checks")
	}
	c, ws, a, lv := newTestLive(t)
	l, _ := c.Lesson("02")
	file := filepath.Join(ws.LessonDir(l), "ping.go")
	before, _ := os.ReadFile(file)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { lv.Run(ctx, LiveOptions{NoWarm: true}) })

	wrong, err := lv.Demo(ctx, "02", "wrong-no-wait", false)
	if err != nil {
		t.Fatal(err)
	}
	if wrong.Verdict != checker.Fail {
		t.Errorf("wrong-no-wait: %s, want fail", wrong.Verdict)
	}
	right, err := lv.Demo(ctx, "02", "solution", true)
	if err != nil {
		t.Fatal(err)
	}
	if right.Verdict != checker.Pass {
		t.Errorf("solution: %s (%s), want pass", right.Verdict, right.Summary)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Error("a demo run changed the workspace file")
	}
	p, _ := a.Progress.Load()
	lp := p.Lesson(l.ID)
	if lp.Status != workspace.NotStarted || lp.Attempts != 0 || !lp.Assisted {
		t.Errorf("progress after demos: status %s, attempts %d, assisted %v; want not-started, 0, true", lp.Status, lp.Attempts, lp.Assisted)
	}

	// The Fire panel: the learner's own code (the starter) on loopback.
	fr, err := lv.Fire(ctx, "02", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fr.Addr, "127.0.0.1:") || fr.Route != "/ping" || len(fr.Spans) != 3 {
		t.Fatalf("fire: %+v", fr)
	}
	for _, s := range fr.Spans {
		if s.Outcome != "ok" {
			t.Errorf("fire: %+v", fr.Spans)
		}
	}
	if _, err := lv.Fire(ctx, "01", "", 3); err == nil || !strings.Contains(err.Error(), "no server") {
		t.Errorf("fire at lesson 01 = %v, want: no server", err)
	}
	if _, err := lv.Fire(ctx, "02", "//elsewhere.example/", 3); err == nil {
		t.Error("fire at another host was accepted")
	}
}

// TestDemoYieldsToSave: a save made while a demo run is checking is
// checked first; the demo run is cancelled, runs again afterwards and still
// returns its own version's verdict.
func TestDemoYieldsToSave(t *testing.T) {
	if testing.Short() {
		t.Skip("runs lesson checks")
	}
	c, ws, _, lv := newTestLive(t)
	l, _ := c.Lesson("02")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	updates := lv.Updates(ctx)
	wg.Go(func() { lv.Run(ctx, LiveOptions{NoWarm: true}) })

	type demoEnd struct {
		res *checker.Result
		err error
	}
	demo := make(chan demoEnd, 1)
	go func() {
		r, err := lv.Demo(ctx, "02", "wrong-no-wait", false)
		demo <- demoEnd{r, err}
	}()
	// Once the demo is running, the presenter saves the solution.
	for {
		if k, _ := lv.q.Running(); k == "demo 02-event-loop wrong-no-wait" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(ws.LessonDir(l), "ping.go"), l.Solution().Files["ping.go"], 0o644); err != nil {
		t.Fatal(err)
	}
	lv.CheckNow("02")
	deadline := time.After(90 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Lesson == l.ID && u.Kind == KindResult {
				if v := u.State.Result.Verdict; v != checker.Pass {
					t.Errorf("the save's verdict = %s, want pass", v)
				}
				d := <-demo
				if d.err != nil || d.res.Verdict != checker.Fail {
					t.Fatalf("demo after the save: %v, %v; want its own fail", d.res, d.err)
				}
				return
			}
		case d := <-demo:
			t.Fatalf("the demo run (%v, %v) ended before the save's result", d.res.Verdict, d.err)
		case <-deadline:
			t.Fatal("no result for the save within 90 s")
		}
	}
}
