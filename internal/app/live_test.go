package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// TestProgressFromAnotherProcess: a hint revealed by `tutor hint` in a
// terminal (another process, another Store on the same file) reaches the
// page of a running tutor without any save or reload.
func TestProgressFromAnotherProcess(t *testing.T) {
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
	lv := NewLive(a, "")
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
			if u.Lesson == id && u.Kind == "state" {
				if u.State.HintsShown != 1 {
					t.Fatalf("state update carries %d hints shown, want 1", u.State.HintsShown)
				}
				// The same progress is not published again.
				select {
				case u := <-updates:
					if u.Kind == "state" {
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
