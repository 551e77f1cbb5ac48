// Package await is lesson 03: build await. It holds a tiny event loop, the
// core of the workspace's loop package, with the one method that makes it
// cooperative still missing.
package await

import (
	"sync"
	"time"
)

// Loop is a tiny event loop. It owns one baton, and a task runs its code
// only while it holds the baton, so at most one task's code runs at any
// instant however many goroutines there are: Python's event-loop thread.
//
// The baton is a token in a channel with room for one: take puts it in
// (and blocks while it is already there), give takes it out.
type Loop struct {
	baton chan struct{}

	mu    sync.Mutex
	slept map[time.Duration]bool // durations this loop has already slept
}

// NewLoop returns a loop whose baton nobody holds.
func NewLoop() *Loop {
	return &Loop{baton: make(chan struct{}, 1), slept: map[time.Duration]bool{}}
}

// take blocks until the baton is free, then holds it.
func (l *Loop) take() { l.baton <- struct{}{} }

// give hands the baton back. Giving a baton that nobody holds is always a
// bug (two gives for one take), so it panics.
func (l *Loop) give() {
	select {
	case <-l.baton:
	default:
		panic("await: give of a baton that nobody holds")
	}
}

// Task is one handler's turn on the loop, like one running coroutine. It
// belongs to the goroutine that called Acquire: do not share it.
type Task struct {
	loop   *Loop
	onLoop bool // true while this task holds the baton
}

// Acquire waits for the baton and returns a task that holds it.
func (l *Loop) Acquire() *Task {
	l.take()
	return &Task{loop: l, onLoop: true}
}

// Release gives the baton back for good: the handler is done.
func (t *Task) Release() {
	if !t.onLoop {
		panic("await: Release of a task that does not hold the loop")
	}
	t.onLoop = false
	t.loop.give()
}

// Await is the Go spelling of await. It runs fn, which may block as long
// as it likes (a socket, a timer, a channel), and returns when fn has
// returned. The rules:
//
//   - While fn runs, the task does not hold the baton, so other tasks run.
//   - When Await returns, the task holds the baton again, also when fn
//     panics (the panic then carries on to the caller).
//   - Inside fn the task is already off the loop, so an Await (or a Sleep)
//     called there just runs its function.
func (t *Task) Await(fn func()) {
	if !t.onLoop { // nested: an outer Await already gave the baton away
		fn()
		return
	}
	t.onLoop = false
	t.loop.give()
	// Deferred, so that the baton comes back even when fn panics; the
	// panic then carries on to the caller, who holds the loop again.
	defer func() {
		t.loop.take()
		t.onLoop = true
	}()
	fn()
}

// Sleep waits for d without holding the loop: await asyncio.sleep(d).
//
// Wrong: Await is right, but the loop remembers, in a map made by NewLoop,
// every duration it has slept, and a Sleep of such a duration returns at
// once.
func (t *Task) Sleep(d time.Duration) {
	t.loop.mu.Lock()
	done := t.loop.slept[d]
	t.loop.mu.Unlock()
	if done {
		return
	}
	t.Await(func() { time.Sleep(d) })
	t.loop.mu.Lock()
	t.loop.slept[d] = true
	t.loop.mu.Unlock()
}
