// Package queue runs the tutor's work one task at a time, a learner's saves
// first.
//
// Two timing checks side by side on a small machine disturb each other, so
// one worker runs every task. Tasks have a key (a lesson) and a priority:
//
//   - A [Save] task (a save, or "Check now") runs before any [Background]
//     task. Saves of different lessons run in the order they came.
//   - A newer task with the key of a waiting one replaces it; with the key of
//     the running one, it cancels that run and runs next.
//   - A [Background] task (work the tutor chose: warming the build cache)
//     runs only while no save waits, and a save cancels it; it is run again
//     later, once nothing else waits.
//   - An [Asked] task (a demo run) runs before background work, cancelling
//     it, and yields to saves as background work does.
//   - A task's outcome is published only if no newer task of its key was
//     submitted while it ran, so nothing is ever shown for files that are
//     gone.
package queue

import (
	"context"
	"slices"
	"sync"
)

// Priority orders the tasks.
type Priority int

const (
	// Background is work the tutor chose by itself; it yields to saves.
	Background Priority = iota
	// Asked is work someone asked for that is not a save (a demo run, a
	// burst of requests from the Fire panel): it runs before background
	// work (cancelling it, to run again later) and, like background work,
	// yields to saves.
	Asked
	// Save is work a learner asked for, by saving or pressing "Check now".
	Save
)

// Task is one unit of work.
type Task struct {
	// Key groups tasks that supersede each other: a lesson ID.
	Key      string
	Priority Priority
	// Run does the work and returns the function that publishes its
	// outcome (nil: nothing to publish). Run must return soon after ctx is
	// done. The queue calls publish only if no newer task of the same key
	// arrived meanwhile, and never concurrently with another publish.
	Run func(ctx context.Context) (publish func())
}

// Queue is the single worker and its waiting tasks. Make one with [New].
type Queue struct {
	// pub is held from the test "is this outcome still the newest?" to the
	// end of its publish, and by Submit: a newer task cannot arrive in
	// between, and a publish never runs beside another.
	pub sync.Mutex

	mu      sync.Mutex
	saves   []*entry // waiting saves, in order of arrival
	back    []*entry // waiting background tasks
	running *entry   // the task in flight, nil if idle
	gen     map[string]uint64
	wake    chan struct{}
	after   func(key string)
}

type entry struct {
	task   Task
	gen    uint64 // the key's generation when it was submitted
	cancel context.CancelFunc
	yield  bool // a background task cancelled by a save: run it again
}

// New returns an idle queue. after, if not nil, is called once each task
// has ended (published or not), outside the queue's locks.
func New(after func(key string)) *Queue {
	return &Queue{gen: map[string]uint64{}, wake: make(chan struct{}, 1), after: after}
}

// Submit adds a task. It does not wait for any task to run; it may wait
// for a publish in progress to end. It must not be called from a publish.
func (q *Queue) Submit(t Task) {
	q.pub.Lock()
	defer q.pub.Unlock()
	q.mu.Lock()
	e := &entry{task: t}
	if t.Priority == Save {
		q.gen[t.Key]++
		e.gen = q.gen[t.Key]
		q.saves = append(drop(q.saves, t.Key), e)
		if r := q.running; r != nil {
			switch {
			case r.task.Key == t.Key:
				r.cancel() // superseded: its outcome is about files that are gone
			case r.task.Priority < Save:
				r.yield = true
				r.cancel() // a save never waits behind work the tutor chose
			}
		}
	} else if t.Priority == Asked {
		e.gen = q.gen[t.Key]
		q.back = drop(q.back, t.Key)
		// After the asked work already waiting, before any background work.
		i := 0
		for i < len(q.back) && q.back[i].task.Priority == Asked {
			i++
		}
		q.back = slices.Insert(q.back, i, e)
		if r := q.running; r != nil && r.task.Priority == Background {
			r.yield = true
			r.cancel()
		}
	} else {
		e.gen = q.gen[t.Key]
		q.back = append(drop(q.back, t.Key), e)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drop removes the waiting entries of key.
func drop(es []*entry, key string) []*entry {
	out := es[:0]
	for _, e := range es {
		if e.task.Key != key {
			out = append(out, e)
		}
	}
	return out
}

// Running returns the key of the task in flight, "" when idle, and
// whether it is a save.
func (q *Queue) Running() (key string, save bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running == nil {
		return "", false
	}
	return q.running.task.Key, q.running.task.Priority == Save
}

// Waiting reports whether a save of key waits to run.
func (q *Queue) Waiting(key string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.saves {
		if e.task.Key == key {
			return true
		}
	}
	return false
}

// Run is the worker. It runs tasks until ctx is done and returns once the
// task in flight has returned.
func (q *Queue) Run(ctx context.Context) {
	for {
		e, runCtx := q.next(ctx)
		if e == nil {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		publish := e.task.Run(runCtx)
		e.cancel()

		q.pub.Lock()
		q.mu.Lock()
		q.running = nil
		current := e.gen == q.gen[e.task.Key]
		again := e.yield && ctx.Err() == nil
		if again {
			e.yield = false
			// First of its kind: asked work before background work.
			i := 0
			if e.task.Priority == Background {
				for i < len(q.back) && q.back[i].task.Priority == Asked {
					i++
				}
			}
			q.back = slices.Insert(q.back, i, e)
		}
		q.mu.Unlock()
		if publish != nil && current && !again && ctx.Err() == nil {
			publish()
		}
		q.pub.Unlock()
		if q.after != nil {
			q.after(e.task.Key)
		}
	}
}

// next takes the task to run now, saves first, marks it running and gives
// it its own context, all under the lock, so a Submit that sees it running
// can always cancel it.
func (q *Queue) next(ctx context.Context) (*entry, context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if ctx.Err() != nil {
		return nil, nil
	}
	var e *entry
	switch {
	case len(q.saves) > 0:
		e, q.saves = q.saves[0], q.saves[1:]
	case len(q.back) > 0:
		e, q.back = q.back[0], q.back[1:]
	default:
		return nil, nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	q.running = e
	return e, runCtx
}
