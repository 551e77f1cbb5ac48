package app

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// longQueue is a queue lab run of about 20 s that sleeps, not spins.
var longQueue = map[string]string{"requests": "2000", "loads": "50"}

// startLab runs a lab in the background and returns once it has started,
// with the channel its result arrives on.
func startLab(t *testing.T, lv *Live, ctx context.Context, knobs map[string]string) <-chan error {
	t.Helper()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() { // ends when RunLab returns: ctx or a check stops it
		var once sync.Once
		done <- lv.RunLab(ctx, "queue", knobs, func(e lab.Event) {
			if e.Kind == lab.EventStart {
				once.Do(func() { close(started) })
			}
		})
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("the lab did not start: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the lab did not start within 5 s")
	}
	return done
}

// TestLabOneAtATime: a second run is refused while one is in progress, and
// may start once it has ended.
func TestLabOneAtATime(t *testing.T) {
	_, _, _, lv := newTestLive(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := startLab(t, lv, ctx, longQueue)
	err := lv.RunLab(t.Context(), "cores", nil, func(lab.Event) { t.Error("the second run emitted an event") })
	if !errors.Is(err, ErrLabBusy) {
		t.Errorf("second run = %v, want ErrLabBusy", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("first run = %v, want context.Canceled", err)
	}
	if err := lv.RunLab(t.Context(), "queue", map[string]string{"pool": "2", "service": "1ms", "loads": "50", "requests": "10"}, func(lab.Event) {}); err != nil {
		t.Errorf("a run after the first ended = %v, want nil", err)
	}
}

// TestLabRefusedWhileChecking: no lab starts while a save is checked.
func TestLabRefusedWhileChecking(t *testing.T) {
	_, _, _, lv := newTestLive(t)
	lv.mu.Lock()
	lv.checking = "02-event-loop"
	lv.mu.Unlock()
	emitted := 0
	err := lv.RunLab(t.Context(), "queue", nil, func(lab.Event) { emitted++ })
	if !errors.Is(err, ErrCheckRunning) || emitted != 0 {
		t.Errorf("RunLab during a check = %v with %d events, want ErrCheckRunning and none", err, emitted)
	}
}

// TestSaveStopsLab: a save's check, through the real queue, stops a
// running lab, which returns ErrSaveFirst ("stopped: your save is being
// checked") at once.
func TestSaveStopsLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lesson's check")
	}
	c, ws, _, lv := newTestLive(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { lv.q.Run(ctx) }) // the queue without a watcher
	updates := lv.Updates(ctx)

	done := startLab(t, lv, ctx, longQueue)
	l := c.Lessons[1]
	if err := os.WriteFile(ws.LessonDir(l)+"/"+l.Files[0], l.Solution().Files[l.Files[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	saved := time.Now()
	lv.trigger(l, time.Time{})
	select {
	case err := <-done:
		t.Logf("the lab stopped %v after the save", time.Since(saved).Round(time.Millisecond))
		if !errors.Is(err, ErrSaveFirst) || err.Error() != "stopped: your save is being checked" {
			t.Errorf("RunLab = %v, want ErrSaveFirst", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lab still runs 5 s after a save was queued")
	}
	// The check itself went on: it is running now.
	deadline := time.After(10 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Kind == KindChecking && u.Lesson == l.ID {
				return
			}
		case <-deadline:
			t.Fatal("no check of the save started")
		}
	}
}
