package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestTwoQuickSaves checks that, without the early look, two saves 50 ms
// apart, inside one debounce window, yield one Change with the second
// content.
func TestTwoQuickSaves(t *testing.T) {
	t.Parallel()
	const gap = 50 * time.Millisecond
	// The test means something only if the two writes really are closer
	// than the debounce; on a stalled box, try again with a fresh watcher.
	for attempt := 1; ; attempt++ {
		stalled := false
		t.Run("attempt", func(t *testing.T) {
			h := one(t, Options{Settle: -1})
			// Measured from before the first write: a bound on the gap
			// whatever the scheduler did between the two.
			before := time.Now()
			writeFile(t, h.path("exercise.go"), source(1))
			time.Sleep(gap)
			writeFile(t, h.path("exercise.go"), source(2))
			if got := time.Since(before); got > DefaultDebounce-30*time.Millisecond {
				stalled = true
				t.Skipf("the writes were %v apart, not about %v; the box stalled", got, gap)
			}
			h.expect(h.dirs[0], h.want(2))
			h.expectNone(quietFor)
		})
		if !stalled {
			return
		}
		if attempt == 3 {
			t.Skip("the box stalled in every attempt; two quick saves were not tested")
		}
	}
}

// TestNoChange checks that activity that leaves the content as it was
// reports nothing, and that the watcher still reports a real save after it.
func TestNoChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		match func(string) bool
		act   func(t *testing.T, dir string)
	}{
		{name: "same content, in place", act: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "exercise.go"), source(0))
		}},
		{name: "same content, rename over", act: func(t *testing.T, dir string) {
			saveRenameOver(t, filepath.Join(dir, "exercise.go"), 0)
		}},
		{name: "swap and backup files only", act: tempFileActivity},
		{name: "swap and backup files only, match everything", match: func(string) bool { return true }, act: tempFileActivity},
		{name: "chmod and touch only", act: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "exercise.go")
			if err := os.Chmod(p, 0o600); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a non-Go file", act: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "notes.txt"), "my notes")
		}},
		{name: "a subdirectory with a Go file", act: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "sub.go"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "sub.go", "x.go"), source(9))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := one(t, Options{Match: tt.match})
			tt.act(t, h.dirs[0])
			h.expectNone(2 * quietFor)
			// Prove the watcher was listening all along.
			saveInPlace(t, h.path("exercise.go"), 1)
			h.expect(h.dirs[0], h.want(1))
		})
	}
}

// tempFileActivity creates, writes and deletes the names editors and tools
// use for swap, backup and temporary files, without touching exercise.go.
func tempFileActivity(t *testing.T, dir string) {
	for _, name := range []string{
		".exercise.go.swp", ".exercise.go.swx", "exercise.go.swp", "4913", "5036",
		"exercise.go~", "sedAb12Cd", "exercise.go___jb_tmp___", "exercise.go___jb_old___",
		"exercise.go.vsctmp", "#exercise.go#", ".#exercise.go", ".exercise.go1234567", "exercise.go.tmp",
	} {
		p := filepath.Join(dir, name)
		writeFile(t, p, source(7))
		writeFile(t, p, source(8))
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	// Leave a swap file behind, as a running vim does.
	writeFile(t, filepath.Join(dir, ".exercise.go.swp"), "swap")
}

// TestFilesComeAndGo checks that deleting a file and adding one are changes.
func TestFilesComeAndGo(t *testing.T) {
	t.Parallel()
	h := one(t, Options{})
	if err := os.Remove(h.path("helper.go")); err != nil {
		t.Fatal(err)
	}
	h.expect(h.dirs[0], map[string]string{"exercise.go": sum(source(0))})
	h.expectNone(quietFor)

	writeFile(t, h.path("mine.go"), "package p // mine\n")
	h.expect(h.dirs[0], map[string]string{"exercise.go": sum(source(0)), "mine.go": sum("package p // mine\n")})
	h.expectNone(quietFor)

	// Deleted and re-created with new content, 20 ms apart: one save.
	if err := os.Remove(h.path("exercise.go")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	writeFile(t, h.path("exercise.go"), source(3))
	h.expect(h.dirs[0], map[string]string{"exercise.go": sum(source(3)), "mine.go": sum("package p // mine\n")})
	h.expectNone(quietFor)
}

// TestDirectoryReset checks that a watched directory that is deleted or
// replaced and then comes back is watched again.
func TestDirectoryReset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reset func(t *testing.T, dir string)
	}{
		{name: "remove and recreate", reset: func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "exercise.go"), source(5))
			writeFile(t, filepath.Join(dir, "helper.go"), "package p\n")
		}},
		{name: "rename a fresh copy over", reset: func(t *testing.T, dir string) {
			fresh := dir + ".fresh"
			if err := os.Mkdir(fresh, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(fresh, "exercise.go"), source(5))
			writeFile(t, filepath.Join(fresh, "helper.go"), "package p\n")
			if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(fresh, dir); err != nil {
				t.Fatal(err)
			}
			// Writes in the old directory no longer count.
			writeFile(t, filepath.Join(dir+".old", "exercise.go"), source(99))
		}},
		{name: "remove, wait, recreate", reset: func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "exercise.go"), source(5))
			writeFile(t, filepath.Join(dir, "helper.go"), "package p\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := one(t, Options{})
			saveInPlace(t, h.path("exercise.go"), 1)
			h.expect(h.dirs[0], h.want(1))
			tt.reset(t, h.dirs[0])
			h.expect(h.dirs[0], h.want(5))
			h.expectNone(quietFor)
			saveSed(t, h.path("exercise.go"), 6)
			h.expect(h.dirs[0], h.want(6))
			h.expectNone(quietFor)
		})
	}
}

// TestSlowConsumer checks that changes made while nobody receives are not
// lost: the newest state of each directory waits to be received.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	h := start(t, []map[string]string{
		{"exercise.go": source(0)},
		{"exercise.go": source(0)},
	}, Options{})
	a, b := filepath.Join(h.dirs[0], "exercise.go"), filepath.Join(h.dirs[1], "exercise.go")
	// Each save is hashed and queued before the next is made; the log
	// tells when, so a starved box cannot reorder the story.
	queued := func(dir string) string { return dir + ": change queued" }
	writeFile(t, a, source(1))
	h.waitLog(queued(h.dirs[0]), 1)
	writeFile(t, b, source(1))
	h.waitLog(queued(h.dirs[1]), 1)
	writeFile(t, a, source(2))
	h.waitLog(queued(h.dirs[0]), 2)
	h.expect(h.dirs[0], map[string]string{"exercise.go": sum(source(2))})
	h.expect(h.dirs[1], map[string]string{"exercise.go": sum(source(1))})
	h.expectNone(quietFor)

	// A change undone before it was received is withdrawn.
	writeFile(t, a, source(3))
	h.waitLog(queued(h.dirs[0]), 3)
	writeFile(t, a, source(2))
	h.waitLog(h.dirs[0]+": back to delivered content", 1)
	h.expectNone(quietFor)
}

// TestPollingForced checks that with Poll set, a save is seen within a
// second without file events.
func TestPollingForced(t *testing.T) {
	t.Parallel()
	h := one(t, Options{Poll: true})
	if got, want := h.w.Mode(), "polling (forced by --poll)"; got != want {
		t.Fatalf("Mode() = %q, want %q", got, want)
	}
	h.settle()
	for n, save := range []editorSave{saveInPlace, saveRenameOver, saveJetBrains} {
		saved := time.Now()
		save(t, h.path("exercise.go"), n+1)
		h.expect(h.dirs[0], h.want(n+1))
		took := time.Since(saved)
		t.Logf("save %d seen after %v", n+1, took)
		if took > time.Second {
			t.Errorf("save %d seen after %v, want within 1s", n+1, took)
		}
		h.expectNone(DefaultPollEvery + quietFor)
	}
	if raw := strings.Join(h.log.snapshot(), "\n"); strings.Contains(raw, " event ") || !strings.Contains(raw, " poll: ") {
		t.Errorf("forced polling used file events or did not poll:\n%s", raw)
	}
}

// TestSelfTestFallback checks that when no file events arrive, the watcher
// says so and polls, and still sees saves.
func TestSelfTestFallback(t *testing.T) {
	t.Parallel()
	deaf := func(fsnotify.Event) bool { return true } // a file system that sends nothing
	h := one(t, Options{SelfTest: 300 * time.Millisecond, drop: deaf})
	want := "polling: no file events arrived within 300ms (network drive or WSL /mnt?)"
	if got := h.w.Mode(); got != want {
		t.Fatalf("Mode() = %q, want %q", got, want)
	}
	h.settle()
	saveVSCodeAtomic(t, h.path("exercise.go"), 1)
	h.expect(h.dirs[0], h.want(1))
	h.expectNone(quietFor)
	if raw := strings.Join(h.log.snapshot(), "\n"); !strings.Contains(raw, " poll: ") {
		t.Errorf("the save was not found by polling:\n%s", raw)
	}
}

// TestSelfTestMessage checks the wording of Mode for the default self-test.
func TestSelfTestMessage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits a full second")
	}
	h := one(t, Options{drop: func(fsnotify.Event) bool { return true }})
	want := "polling: no file events arrived within 1s (network drive or WSL /mnt?)"
	if got := h.w.Mode(); got != want {
		t.Fatalf("Mode() = %q, want %q", got, want)
	}
}

// TestOverflow checks that an event-queue overflow leads to a rescan that
// finds what the lost events would have reported.
func TestOverflow(t *testing.T) {
	t.Parallel()
	lost := func(ev fsnotify.Event) bool { return filepath.Base(ev.Name) == "exercise.go" }
	inject := make(chan error)
	h := one(t, Options{drop: lost, inject: inject})
	h.settle()
	saveInPlace(t, h.path("exercise.go"), 1)
	h.expectNone(quietFor) // the events were lost
	send := func(err error) {
		t.Helper()
		select {
		case inject <- err:
		case <-time.After(arriveWithin):
			t.Fatalf("Run did not take the injected error %v", err)
		}
	}
	send(fsnotify.ErrEventOverflow)
	h.expect(h.dirs[0], h.want(1))

	// Other errors are drained and change nothing.
	send(errors.New("some other error"))
	h.expectNone(quietFor)
}

// TestRunEnds checks that Run returns nil and closes Changes when its
// context ends, and refuses a second call.
func TestRunEnds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := New([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }() // ends on cancel below
	time.Sleep(50 * time.Millisecond)
	if err := w.Run(ctx); err == nil {
		t.Errorf("second Run() = nil, want an error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	if _, ok := <-w.Changes(); ok {
		t.Errorf("Changes() still open after Run returned")
	}
}

// TestNewErrors checks that New refuses what it cannot watch.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f.go")
	writeFile(t, file, "package p\n")
	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"none", nil, "no directories"},
		{"missing", []string{filepath.Join(dir, "nope")}, "no such file"},
		{"a file", []string{file}, "not a directory"},
		{"twice", []string{dir, dir + "/"}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.dirs, Options{Poll: true})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q) = %v, %v, want error containing %q", tt.dirs, w, err, tt.want)
			}
		})
	}
}
