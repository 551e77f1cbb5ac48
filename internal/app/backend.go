package app

// The methods of [Live] that the web page calls ([site.Backend]): each one
// is thin, and hands the work to the app, the workspace or the queue.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/workspace"
)

// Snapshot implements [site.Backend].
func (lv *Live) Snapshot() site.Snapshot {
	s := site.Snapshot{Workspace: lv.app.WS.Root, Lessons: map[string]site.LessonState{}}
	for _, l := range lv.app.Course.Lessons {
		s.Lessons[l.ID] = lv.state(l.ID)
	}
	lv.mu.Lock()
	s.Notice = lv.currentNotice()
	lv.mu.Unlock()
	return s
}

// Subscribe implements [site.Backend].
func (lv *Live) Subscribe(ctx context.Context) <-chan site.Event {
	in := lv.Updates(ctx)
	out := make(chan site.Event, 64)
	// This goroutine ends when in is closed (ctx done).
	go func() {
		defer close(out)
		for u := range in {
			select {
			case out <- site.Event{Lesson: u.Lesson, State: u.State, Notice: u.Notice}:
			default:
			}
		}
	}()
	return out
}

func (lv *Live) lesson(id string) (*lessons.Lesson, error) {
	return lv.app.Course.Lesson(id)
}

// CheckNow implements [site.Backend].
func (lv *Live) CheckNow(id string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	lv.trigger(l, time.Time{})
	return nil
}

// RevealHint implements [site.Backend].
func (lv *Live) RevealHint(id string) (int, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return 0, err
	}
	shown, err := lv.app.RevealHint(l, false)
	if err != nil {
		return 0, err
	}
	lv.publishLesson(KindState, l.ID, time.Time{})
	return shown, nil
}

// Reset implements [site.Backend]. The watcher sees the restored files and
// checks them.
func (lv *Live) Reset(id string) (string, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return "", err
	}
	return lv.app.WS.Reset(l)
}

// Undo implements [site.Backend].
func (lv *Live) Undo(id string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	_, err = lv.app.WS.Undo(l)
	return err
}

// Solution implements [site.Backend].
func (lv *Live) Solution(id string, force bool) (map[string][]byte, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return nil, err
	}
	files, err := lv.app.Solution(l, force)
	if errors.Is(err, workspace.ErrNotSaved) {
		err = nil // shown, though "assisted" could not be recorded (a read-only workspace)
	}
	if err == nil && force {
		lv.publishLesson(KindState, l.ID, time.Time{}) // may now be assisted
	}
	return files, err
}

// OpenInEditor implements [site.Backend]: it starts the editor command with
// the file's path and does not wait for it.
func (lv *Live) OpenInEditor(id, file string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	if !slices.Contains(l.Files, file) {
		return fmt.Errorf("%s is not a file of %s (files: %s)", file, l.ID, strings.Join(l.Files, ", "))
	}
	args := strings.Fields(lv.editor)
	if len(args) == 0 {
		return errors.New("no editor configured; start the tutor with --editor CMD")
	}
	cmd := exec.Command(args[0], append(args[1:], filepath.Join(lv.app.WS.LessonDir(l), file))...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	// This goroutine ends when the editor exits; it only reaps the process.
	go cmd.Wait()
	return nil
}
