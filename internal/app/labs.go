package app

// Labs on the page ([site.LabRunner]): one run at a time, and never in the
// way of a save. A lab burns CPU or fills the machine with timers; a check
// is a timing measurement, so a check that starts stops the lab, and a lab
// does not start while a check runs.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// The reasons a lab run is refused or stopped.
var (
	// ErrLabBusy: another lab run is in progress (one at a time).
	ErrLabBusy = errors.New("a lab is already running")
	// ErrCheckRunning: a save is being checked; labs wait for it.
	ErrCheckRunning = errors.New("a save is being checked; run the lab again when its verdict is in")
	// ErrSaveFirst is the cause of a run a check stopped.
	ErrSaveFirst = errors.New("stopped: your save is being checked")
)

// labStopWait bounds how long a check waits for a stopped lab to return
// before it starts measuring anyway.
const labStopWait = 2 * time.Second

// labRun is the lab in progress.
type labRun struct {
	name   string
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when RunLab returns
}

// RunLab implements [site.LabRunner]: it runs the lab called name with the
// given knobs, calling emit with each event, unless a check is running or
// another lab is. A check that starts meanwhile stops it: RunLab then
// returns [ErrSaveFirst].
func (lv *Live) RunLab(ctx context.Context, name string, knobs map[string]string, emit func(lab.Event)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run := &labRun{name: name, cancel: cancel, done: make(chan struct{})}
	lv.mu.Lock()
	switch {
	case lv.checking != "":
		lv.mu.Unlock()
		return ErrCheckRunning
	case lv.lab != nil:
		busy := lv.lab.name
		lv.mu.Unlock()
		return fmt.Errorf("%w (%s); wait for it to end", ErrLabBusy, busy)
	}
	lv.lab = run
	lv.mu.Unlock()
	defer func() {
		lv.mu.Lock()
		lv.lab = nil
		lv.mu.Unlock()
		close(run.done)
	}()
	return lab.Run(ctx, name, knobs, emit)
}

// stopLab stops the lab in progress, if any, and waits (at most
// labStopWait) for it to return. The caller has set lv.checking under
// lv.mu, so no lab can start after this.
func (lv *Live) stopLab() {
	lv.mu.Lock()
	run := lv.lab
	lv.mu.Unlock()
	if run == nil {
		return
	}
	run.cancel(ErrSaveFirst)
	select {
	case <-run.done:
	case <-time.After(labStopWait):
	}
}
