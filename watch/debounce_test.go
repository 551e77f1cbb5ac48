package watch

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestDebounceTrailingEdge drives the loop's event handling with explicit
// times: a burst is hashed only once Debounce has passed since its last
// event, and its Change carries the time of its first event.
func TestDebounceTrailingEdge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "exercise.go"), source(0))
	w, err := New([]string{dir}, Options{Poll: true, Settle: -1})
	if err != nil {
		t.Fatal(err)
	}
	l := &loop{w: w, byPath: map[string]*dirState{filepath.Clean(dir): w.dirs[0]}}
	ev := func(op fsnotify.Op, name string) fsnotify.Event {
		return fsnotify.Event{Name: filepath.Join(dir, name), Op: op}
	}
	// An hour ahead of the real clock, so that the files' real mtimes are
	// old and never hold a burst open (see TestDebounceLaggingEvents).
	t0 := time.Now().Add(time.Hour)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	// Ignored: temp names, other extensions, chmod alone.
	l.event(ev(fsnotify.Create, "exercise.go~"), ms(0))
	l.event(ev(fsnotify.Write, "notes.txt"), ms(0))
	l.event(ev(fsnotify.Chmod, "exercise.go"), ms(0))
	if at, ok := l.nextDeadline(); ok {
		t.Fatalf("nextDeadline() = %v, true after ignored events, want none", at)
	}

	writeFile(t, filepath.Join(dir, "exercise.go"), source(1))
	l.event(ev(fsnotify.Write, "exercise.go"), ms(0))
	l.event(ev(fsnotify.Write, "exercise.go"), ms(50))
	if at, ok := l.nextDeadline(); !ok || !at.Equal(ms(150)) {
		t.Fatalf("nextDeadline() = %v, %v, want %v, true", at, ok, ms(150))
	}
	l.fire(ms(149))
	if len(l.queue) != 0 {
		t.Fatalf("fired at 149ms: %d changes queued, want 0", len(l.queue))
	}
	l.fire(ms(150))
	if len(l.queue) != 1 {
		t.Fatalf("fired at 150ms: %d changes queued, want 1", len(l.queue))
	}
	if got := l.queue[0].out; !got.Seen.Equal(ms(0)) || got.Files["exercise.go"] != sum(source(1)) {
		t.Errorf("queued Change = %v %v, want Seen %v and source(1)", got.Seen, names(got.Files), ms(0))
	}

	// An empty file is believed only after one more debounce, in case an
	// in-place save is between truncating and writing.
	l.queue = nil
	w.dirs[0].delivered, w.dirs[0].pendingFiles = w.dirs[0].out.Files, nil
	writeFile(t, filepath.Join(dir, "exercise.go"), "")
	l.event(ev(fsnotify.Write, "exercise.go"), ms(1000))
	l.fire(ms(1100))
	if at, ok := l.nextDeadline(); len(l.queue) != 0 || !ok || !at.Equal(ms(1200)) {
		t.Fatalf("empty file at 1100ms: queued %d, next deadline %v %v, want 0, %v", len(l.queue), at, ok, ms(1200))
	}
	writeFile(t, filepath.Join(dir, "exercise.go"), source(2))
	l.event(ev(fsnotify.Write, "exercise.go"), ms(1150))
	l.fire(ms(1250))
	if len(l.queue) != 1 || l.queue[0].out.Files["exercise.go"] != sum(source(2)) || !l.queue[0].out.Seen.Equal(ms(1000)) {
		t.Fatalf("after the write: queued %d, want one Change with source(2) seen at %v", len(l.queue), ms(1000))
	}
	l.queue = nil
	w.dirs[0].delivered, w.dirs[0].pendingFiles = w.dirs[0].out.Files, nil
	writeFile(t, filepath.Join(dir, "exercise.go"), "")
	l.event(ev(fsnotify.Write, "exercise.go"), ms(2000))
	l.fire(ms(2100))
	l.fire(ms(2200))
	if len(l.queue) != 1 || l.queue[0].out.Files["exercise.go"] != sum("") {
		t.Fatalf("an empty file that stays empty: queued %d, want one Change with the empty file", len(l.queue))
	}

	// So is a missing file: a rename-style save has it gone for a moment.
	l.queue = nil
	w.dirs[0].delivered, w.dirs[0].pendingFiles = w.dirs[0].out.Files, nil
	if err := os.Rename(filepath.Join(dir, "exercise.go"), filepath.Join(dir, "exercise.go~")); err != nil {
		t.Fatal(err)
	}
	l.event(ev(fsnotify.Rename, "exercise.go"), ms(3000))
	l.fire(ms(3100))
	if len(l.queue) != 0 {
		t.Fatalf("missing file at 3100ms: queued %d, want 0", len(l.queue))
	}
	l.fire(ms(3200))
	if len(l.queue) != 1 || len(l.queue[0].out.Files) != 0 {
		t.Fatalf("a file that stays missing: queued %d, want one Change without it", len(l.queue))
	}

	// The directory itself disappearing marks it lost and reports nothing.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	l.polling = false
	l.event(ev(fsnotify.Remove, ""), ms(200))
	l.fire(ms(300))
	if !w.dirs[0].lost || len(l.queue) != 1 {
		t.Errorf("after removing the directory: lost = %v, queued = %d, want true, 1", w.dirs[0].lost, len(l.queue))
	}
}

// TestCoalesceSynctest runs a polling Watcher in a synctest bubble, so the
// clock is exact: a Change waiting for a slow consumer is replaced by newer
// content, and Seen is the poll tick that noticed the save.
func TestCoalesceSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		h := one(t, Options{Poll: true, Settle: -1}) // Debounce 100ms, PollEvery 500ms
		p := h.path("exercise.go")
		pending := func() (Change, bool) {
			synctest.Wait()
			select {
			case c := <-h.w.Changes():
				return c, true
			default:
				return Change{}, false
			}
		}
		// Sizes differ on purpose: the real mtime barely moves while the
		// bubble's clock jumps, and polling compares size and mtime.
		time.Sleep(550 * time.Millisecond)
		writeFile(t, p, source(11))
		time.Sleep(460 * time.Millisecond) // 1010ms: tick at 1000 saw it
		if c, ok := pending(); ok {
			t.Fatalf("Change at 1010ms, before the debounce ended: %v", names(c.Files))
		}
		time.Sleep(100 * time.Millisecond) // 1110ms: hashed at 1100, waiting
		writeFile(t, p, source(222))
		time.Sleep(500 * time.Millisecond) // 1610ms: tick at 1500, hashed at 1600

		c, ok := pending()
		if !ok {
			t.Fatal("no Change at 1610ms, want one")
		}
		if want := h.want(222); c.Files["exercise.go"] != want["exercise.go"] {
			t.Errorf("Change = %v, want the newest content %v", names(c.Files), names(want))
		}
		if got, want := c.Seen.Sub(t0), 1500*time.Millisecond; got != want {
			t.Errorf("Change.Seen = t0+%v, want t0+%v", got, want)
		}
		time.Sleep(time.Second)
		if c, ok := pending(); ok {
			t.Errorf("second Change %v, want none", names(c.Files))
		}
	})
}

// TestDebounceLaggingEvents checks that a burst whose last event came
// earlier than the last write (events lag on a starved box) waits until a
// debounce after the write.
func TestDebounceLaggingEvents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "exercise.go")
	writeFile(t, p, source(0))
	w, err := New([]string{dir}, Options{Poll: true, Settle: -1})
	if err != nil {
		t.Fatal(err)
	}
	l := &loop{w: w, byPath: map[string]*dirState{filepath.Clean(dir): w.dirs[0]}}
	writeFile(t, p, source(1))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	written := fi.ModTime()
	l.event(fsnotify.Event{Name: p, Op: fsnotify.Write}, written.Add(-90*time.Millisecond))
	l.fire(written.Add(10 * time.Millisecond))
	if len(l.queue) != 0 {
		t.Fatalf("10ms after the write: queued %d, want 0", len(l.queue))
	}
	if at, ok := l.nextDeadline(); !ok || !at.Equal(written.Add(DefaultDebounce)) {
		t.Fatalf("nextDeadline() = %v, %v, want the write's mtime + %v", at, ok, DefaultDebounce)
	}
	l.fire(written.Add(DefaultDebounce))
	if len(l.queue) != 1 || l.queue[0].out.Files["exercise.go"] != sum(source(1)) {
		t.Fatalf("a debounce after the write: queued %d, want one Change with source(1)", len(l.queue))
	}
}
