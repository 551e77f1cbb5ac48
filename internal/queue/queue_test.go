package queue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// log records what the tasks did, in order.
type log struct {
	mu    sync.Mutex
	lines []string
}

func (l *log) add(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, a...))
}

func (l *log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "; ")
}

// work is a task that takes d (fake time) unless cancelled, logging its
// start, its end or cancellation, and its publish.
func work(l *log, key string, p Priority, name string, d time.Duration) Task {
	return Task{Key: key, Priority: p, Run: func(ctx context.Context) func() {
		l.add("start %s", name)
		select {
		case <-time.After(d):
			l.add("end %s", name)
		case <-ctx.Done():
			l.add("cancel %s", name)
			return nil
		}
		return func() { l.add("publish %s", name) }
	}}
}

// run starts the worker for the length of the bubble.
func run(t *testing.T, q *Queue) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestQueue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps func(q *Queue, l *log)
		want  string
	}{
		{
			name: "a save cancels background work, which runs again afterwards",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "01", Background, "warm 01", time.Second))
				time.Sleep(100 * time.Millisecond)
				q.Submit(work(l, "02", Save, "save 02", 300*time.Millisecond))
			},
			want: "start warm 01; cancel warm 01; start save 02; end save 02; publish save 02; start warm 01; end warm 01; publish warm 01",
		},
		{
			name: "asked work goes before background work and yields to a save",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "01", Background, "warm 01", time.Second))
				q.Submit(work(l, "03", Background, "warm 03", time.Second))
				time.Sleep(100 * time.Millisecond)
				q.Submit(work(l, "demo 02", Asked, "demo 02", time.Second))
				time.Sleep(100 * time.Millisecond)
				q.Submit(work(l, "02", Save, "save 02", 300*time.Millisecond))
			},
			want: "start warm 01; cancel warm 01; start demo 02; cancel demo 02; start save 02; end save 02; publish save 02; " +
				"start demo 02; end demo 02; publish demo 02; start warm 01; end warm 01; publish warm 01; start warm 03; end warm 03; publish warm 03",
		},
		{
			name: "background work waits while saves wait",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "02", Save, "save 02", 300*time.Millisecond))
				q.Submit(work(l, "01", Background, "warm 01", time.Second))
				q.Submit(work(l, "03", Save, "save 03", 300*time.Millisecond))
			},
			want: "start save 02; end save 02; publish save 02; start save 03; end save 03; publish save 03; start warm 01; end warm 01; publish warm 01",
		},
		{
			name: "a newer save of the lesson being checked cancels the run; only the newer one is published",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "02", Save, "save 02 a", time.Second))
				time.Sleep(200 * time.Millisecond)
				q.Submit(work(l, "02", Save, "save 02 b", time.Second))
			},
			want: "start save 02 a; cancel save 02 a; start save 02 b; end save 02 b; publish save 02 b",
		},
		{
			name: "a run that ignores its cancellation is not published",
			steps: func(q *Queue, l *log) {
				q.Submit(Task{Key: "02", Priority: Save, Run: func(ctx context.Context) func() {
					l.add("start stubborn")
					time.Sleep(time.Second) // does not watch ctx
					l.add("end stubborn")
					return func() { l.add("publish stubborn") }
				}})
				time.Sleep(200 * time.Millisecond)
				q.Submit(work(l, "02", Save, "save 02 b", 300*time.Millisecond))
			},
			want: "start stubborn; end stubborn; start save 02 b; end save 02 b; publish save 02 b",
		},
		{
			name: "saves of another lesson wait their turn: nothing is cancelled",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "02", Save, "save 02", time.Second))
				time.Sleep(200 * time.Millisecond)
				q.Submit(work(l, "03", Save, "save 03", 300*time.Millisecond))
			},
			want: "start save 02; end save 02; publish save 02; start save 03; end save 03; publish save 03",
		},
		{
			name: "a newer save replaces a waiting one of the same lesson",
			steps: func(q *Queue, l *log) {
				q.Submit(work(l, "02", Save, "save 02", time.Second))
				time.Sleep(100 * time.Millisecond)
				q.Submit(work(l, "03", Save, "save 03 a", 300*time.Millisecond))
				q.Submit(work(l, "03", Save, "save 03 b", 300*time.Millisecond))
			},
			want: "start save 02; end save 02; publish save 02; start save 03 b; end save 03 b; publish save 03 b",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := &log{}
				var ended []string
				var mu sync.Mutex
				q := New(func(key string) { mu.Lock(); ended = append(ended, key); mu.Unlock() })
				run(t, q)
				tc.steps(q, l)
				time.Sleep(10 * time.Second)
				synctest.Wait()
				if got := l.String(); got != tc.want {
					t.Errorf("got:  %s\nwant: %s", got, tc.want)
				}
				if k, _ := q.Running(); k != "" {
					t.Errorf("still running %s", k)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(ended) == 0 {
					t.Errorf("after was never called")
				}
			})
		})
	}
}

// TestSaveStartsAtOnce measures, in fake time, how long a save waits when
// background work is running: not at all.
func TestSaveStartsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(nil)
		run(t, q)
		started := make(chan time.Time, 1)
		for _, k := range []string{"01", "02", "03", "04", "05", "06"} {
			q.Submit(Task{Key: k, Priority: Background, Run: func(ctx context.Context) func() {
				select {
				case <-time.After(5 * time.Second): // a long warm-up build
				case <-ctx.Done():
				}
				return nil
			}})
		}
		time.Sleep(time.Second)
		submitted := time.Now()
		q.Submit(Task{Key: "02", Priority: Save, Run: func(ctx context.Context) func() {
			started <- time.Now()
			return nil
		}})
		synctest.Wait()
		select {
		case s := <-started:
			if d := s.Sub(submitted); d != 0 {
				t.Errorf("the save started %v after it was submitted, want at once", d)
			}
		default:
			t.Fatal("the save did not start while background work ran")
		}
		if k, save := q.Running(); k == "" || save {
			t.Errorf("after the save, running %q (save %t), want the background work again", k, save)
		}
	})
}

// TestWaiting reports queued saves.
func TestWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(nil)
		run(t, q)
		block := make(chan struct{})
		q.Submit(Task{Key: "01", Priority: Save, Run: func(ctx context.Context) func() { <-block; return nil }})
		q.Submit(Task{Key: "02", Priority: Save, Run: func(ctx context.Context) func() { return nil }})
		synctest.Wait()
		if k, save := q.Running(); k != "01" || !save {
			t.Errorf("Running() = %q, %t; want 01, true", k, save)
		}
		if !q.Waiting("02") || q.Waiting("01") || q.Waiting("03") {
			t.Errorf("Waiting: 01 %t, 02 %t, 03 %t; want false, true, false", q.Waiting("01"), q.Waiting("02"), q.Waiting("03"))
		}
		close(block)
		synctest.Wait()
		if slices.ContainsFunc([]string{"01", "02"}, q.Waiting) {
			t.Errorf("saves still waiting after the worker is idle")
		}
	})
}
