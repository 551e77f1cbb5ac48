package site

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
)

// fakeBackend records every call and lets a test publish events.
type fakeBackend struct {
	mu    sync.Mutex
	snap  Snapshot
	calls []string
	subs  map[chan Event]bool
	err   error // returned by every action when set
}

func newFake(workspace string) *fakeBackend {
	return &fakeBackend{
		snap: Snapshot{Workspace: workspace, Lessons: map[string]LessonState{}},
		subs: map[chan Event]bool{},
	}
}

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// Calls returns the recorded calls, Snapshot and Subscribe included.
func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Actions returns the recorded calls other than Snapshot and Subscribe.
func (f *fakeBackend) Actions() []string {
	var out []string
	for _, c := range f.Calls() {
		if c != "Snapshot" && c != "Subscribe" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeBackend) Set(id string, st LessonState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.Lessons[id] = st
}

func (f *fakeBackend) Snapshot() Snapshot {
	f.record("Snapshot")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.snap
	s.Lessons = maps.Clone(f.snap.Lessons)
	return s
}

// Subscribe registers a buffered channel; a goroutine owned by the fake
// removes and closes it when ctx is done, and then exits.
func (f *fakeBackend) Subscribe(ctx context.Context) <-chan Event {
	f.record("Subscribe")
	ch := make(chan Event, 16)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		delete(f.subs, ch)
		close(ch)
		f.mu.Unlock()
	}()
	return ch
}

// Subscribers counts the live subscriptions.
func (f *fakeBackend) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Publish updates the snapshot and sends ev to every subscriber.
func (f *fakeBackend) Publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Lesson == "" {
		f.snap.Notice = ev.Notice
	} else {
		f.snap.Lessons[ev.Lesson] = ev.State
	}
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (f *fakeBackend) CheckNow(id string) error {
	f.record("CheckNow %s", id)
	return f.err
}

func (f *fakeBackend) RevealHint(id string) (int, error) {
	f.record("RevealHint %s", id)
	if f.err != nil {
		return 0, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.snap.Lessons[id]
	st.HintsShown++
	f.snap.Lessons[id] = st
	return st.HintsShown, nil
}

func (f *fakeBackend) Reset(id string) (string, error) {
	f.record("Reset %s", id)
	if f.err != nil {
		return "", f.err
	}
	return "/tmp/backup-1", nil
}

func (f *fakeBackend) Undo(id string) error {
	f.record("Undo %s", id)
	return f.err
}

func (f *fakeBackend) Solution(id string, force bool) (map[string][]byte, error) {
	f.record("Solution %s %v", id, force)
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap.Lessons[id].Status != Passed && !force {
		return nil, errors.New("pass the lesson first")
	}
	return map[string][]byte{"ping.go": []byte("package ping\n\n// Solved is the answer.\nfunc Solved() int { return 42 }\n")}, nil
}

func (f *fakeBackend) OpenInEditor(id, file string) error {
	f.record("OpenInEditor %s %s", id, file)
	return f.err
}

// testLessons describes the small course the tests load.
var testLessons = []struct{ id, title, module string }{
	{"01-measure", "Is it concurrent? Measure it", "Sync vs async handling"},
	{"02-event-loop", "One loop, one thing at a time", "Sync vs async handling"},
	{"03-cpu", "CPU work & the cores", "CPU-bound work"},
}

// testCourse loads a minimal valid course from memory.
func testCourse(t testing.TB) *lessons.Course {
	t.Helper()
	fsys := fstest.MapFS{
		"loop/loop.go":       {Data: []byte("package loop\n")},
		"harness/harness.go": {Data: []byte("package harness\n")},
	}
	for i, l := range testLessons {
		report := "" // 03 asks for the objectives table (the capstone's report)
		if l.id == "03-cpu" {
			report = "report: objectives\n"
		}
		md := fmt.Sprintf(`---
id: %s
title: %s
module: %s
summary: Lesson %d in one sentence <for the map>.
minutes: %d
files: [ping.go]
timeout: 20s
%svariants:
  - dir: starter
    expect: fail
    failing: [Concurrent]
    why: sleeps on the loop
  - dir: solution
    expect: pass
  - dir: alt-await
    expect: pass
  - dir: wrong-spin
    expect: fail
    failing: [Concurrent]
  - dir: wrong-tiny
    expect: fail
    failing: [Health]
---
# %s

By the end you can say whether a server handles requests **one at a time**.

## The loop

Ten requests that each sleep 100 ms take 1 s on one loop.

> [!NOTE]
> HTTP/1.1 carries one request at a time per connection.

### A closer look

`+"```go\nfunc Ping(c *loop.Ctx) { time.Sleep(100 * time.Millisecond) }\n```"+`

## Your task

Edit `+"`%s/ping.go`"+`. <script>alert(1)</script>
`, l.id, l.title, l.module, i+1, 10+5*i, report, l.title, l.id)
		fsys[l.id+"/lesson.md"] = &fstest.MapFile{Data: []byte(md)}
		fsys[l.id+"/hints.md"] = &fstest.MapFile{Data: []byte("## Where does it wait?\n\nLook at `time.Sleep`.\n\n## Give the loop away\n\nUse `c.Sleep`.\n\n## Nearly the answer\n\n```go\nc.Sleep(100 * time.Millisecond)\n```\n")}
		fsys[l.id+"/check/check_test.go"] = &fstest.MapFile{Data: []byte(lessons.CheckTag + "\n\npackage ping\n")}
		for _, v := range []string{"starter", "solution", "alt-await", "wrong-spin", "wrong-tiny"} {
			fsys[l.id+"/"+v+"/ping.go"] = &fstest.MapFile{Data: []byte("package ping\n")}
		}
	}
	c, err := lessons.Load(fsys, "lessons")
	if err != nil {
		t.Fatalf("load test course: %v", err)
	}
	return c
}

var testHosts = []string{"127.0.0.1:7070", "localhost:7070"}

func newTestServer(t testing.TB, b Backend, edit func(*Config)) *Server {
	t.Helper()
	cfg := Config{Course: testCourse(t), Backend: b, Hosts: testHosts}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// serialSpans is the staircase of ten 100 ms requests handled one at a time.
func serialSpans() []checker.Span {
	var ss []checker.Span
	for i := range 10 {
		ss = append(ss, checker.Span{Label: fmt.Sprintf("GET /ping #%d", i+1), StartMS: float64(2 + 102*i), EndMS: float64(102 * (i + 1)), Outcome: "ok"})
	}
	return ss
}

// failingResult is a typical failed run of lesson 02.
func failingResult() *checker.Result {
	return &checker.Result{
		Lesson:  "02-event-loop",
		Verdict: checker.Fail,
		Summary: "1 of 2 checks failed: Concurrent",
		Checks: []checker.Check{
			{
				Name: "Concurrent", Title: "10 requests at once finish in about one sleep",
				Message: "10 requests × 100 ms took 1.02 s: about one at a time.\nConcurrent handling takes about 0.1 s; the check allows up to 0.35 s.\nLikely cause: time.Sleep holds the loop.",
				Measures: []checker.Measure{{What: "total time", Unit: "ms", Samples: []float64{1021.4, 1019.8},
					Value: 1021.4, Bound: 350, Rule: "max"}},
				Remeasured: true,
			},
			{
				Name: "Health", Title: "/health answers during the load", Passed: true,
				Message:  "/health answered in 3.2 ms.",
				Timeline: []checker.Span{{Label: "/health", StartMS: 0, EndMS: 3.2, Outcome: "probe"}},
				Measures: []checker.Measure{{What: "health latency", Unit: "ms", Value: 3.2, Bound: 50, Rule: "max", Passed: true}},
			},
		},
		Output:        "listening on 127.0.0.1:41234\nserved 10 requests <ok>\n",
		ElapsedMS:     1840,
		Phases:        map[string]int64{"build": 610, "run": 1230},
		Timeline:      serialSpans(),
		TimelineCheck: "Concurrent",
	}
}

// buildErrorResult points at line 7 of the learner's ping.go.
func buildErrorResult() *checker.Result {
	return &checker.Result{
		Lesson: "02-event-loop", Verdict: checker.BuildError, Summary: "does not compile: 02-event-loop/ping.go:7",
		BuildErrors: []checker.CompileError{{File: "02-event-loop/ping.go", Line: 7, Column: 2, Message: "undefined: slep"}},
	}
}

const learnerPing = `package ping

import "time"

// Ping answers after a while.
func Ping() {
	slep(100 * time.Millisecond)
}
`

// contains fails the test unless s contains every want.
func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}
