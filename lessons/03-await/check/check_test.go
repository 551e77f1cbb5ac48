//go:build tutorcheck

package await

import (
	"fmt"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The checks drive the learner's Loop with handlers of their own: each is a
// goroutine that takes the loop with Acquire, runs some code on it, awaits,
// and releases. The checks count with their own gauges, around their own
// code, so nothing depends on how Loop and Task work inside.
const (
	checkHandlers = 10
	checkWait     = 100 * time.Millisecond
	// checkDeadline bounds every wait for the learner's code. Correct code
	// finishes each scenario in 100–250 ms.
	checkDeadline = 2 * time.Second
	// checkBoom is what the checks' awaited function panics with.
	checkBoom = "boom: the check's awaited function panicked on purpose"
)

// checkOutcome is what a group of handler goroutines did.
type checkOutcome struct {
	n       int
	took    time.Duration // from the start until the last handler returned, or the deadline
	stuck   int           // handlers still running at the deadline
	where   string        // where the stuck handlers are blocked
	panics  int           // handlers that panicked
	first   any           // the first panic value
	firstAt []string      // where in the learner's file it happened, innermost first
	creator string        // the goroutine that started the handlers
}

// checkRunHandlers runs h(0) … h(n-1), each in its own goroutine, and waits for
// them until checkDeadline. A handler that panics is recovered and counted.
func checkRunHandlers(n int, h func(i int)) checkOutcome {
	o := checkOutcome{n: n, creator: checkGoroutineID()}
	var finished atomic.Int64
	var mu sync.Mutex
	start := time.Now()
	for i := range n {
		go func() { // exits when h returns or panics; if the learner's code deadlocks it never does, and the check says so
			defer func() {
				if p := recover(); p != nil {
					at := checkLearnerFrames(string(debug.Stack()))
					mu.Lock()
					if o.panics == 0 {
						o.first, o.firstAt = p, at
					}
					o.panics++
					mu.Unlock()
				}
				finished.Add(1)
			}()
			h(i)
		}()
	}
	harness.WaitUntil(checkDeadline, func() bool { return finished.Load() == int64(n) })
	o.took = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if left := n - int(finished.Load()); left > 0 {
		o.stuck = left
		o.where = checkBlockedAt(o.creator)
	}
	return o
}

// deadlock describes handlers that never finished, for the learner.
func (o checkOutcome) deadlock(correct string) string {
	msg := fmt.Sprintf("After %.0f s, %d of %d handlers had still not finished: the loop is deadlocked. %s Correct code %s.",
		checkDeadline.Seconds(), o.stuck, o.n, o.where, correct)
	if o.panics > 0 {
		return fmt.Sprintf("%s It started with a panic: %s", msg, o.panicked())
	}
	return msg + " " + checkDeadlockCause
}

// checkDeadlockCause is the likely cause of handlers stuck in Await.
const checkDeadlockCause = "Likely cause: a task waits for a baton it already holds, because Await takes it twice " +
	"(for example once after fn and once more in a defer) or takes it without having given it."

// panicked describes handlers that panicked, for the learner.
func (o checkOutcome) panicked() string {
	return fmt.Sprintf("%d of %d handlers panicked%s: %q. %s", o.panics, o.n, checkAt(o.firstAt), fmt.Sprint(o.first), checkPanicCause(o.firstAt))
}

// checkAt formats learner frames as " in f at await.go:12 (called from …)".
func checkAt(frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	s := " in " + frames[0]
	if len(frames) > 1 {
		s += " (called from " + strings.Join(frames[1:], ", called from ") + ")"
	}
	return s
}

// checkPanicCause guesses why the learner's code panicked from where it did.
func checkPanicCause(frames []string) string {
	for _, f := range frames {
		if strings.HasPrefix(f, "(*Task).Release ") {
			return "When Await returned, the task did not hold the baton (or did not know it held it): Await must take the baton back, and mark the task as on the loop, before it returns."
		}
	}
	return "Every give of the baton must match one take: Await gave a baton that its task did not hold."
}

// checkClosedWithin reports whether ch is closed within d.
func checkClosedWithin(ch <-chan struct{}, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

// checkCatch runs fn and returns the value it panicked with, or nil.
func checkCatch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// checkGoroutineID returns the calling goroutine's number, as stack traces show it.
func checkGoroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf)) // "goroutine 18 [running]: ..."
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// checkBlockedAt says where the goroutines started by the goroutine creator are
// blocked in the learner's file, e.g. "Where they are: 10 blocked (chan
// send) in (*Loop).take at await.go:24, called from (*Task).Await at
// await.go:80."
func checkBlockedAt(creator string) string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	counts := map[string]int{}
	var order []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(g), "\n")
		if len(lines) < 3 || !strings.HasSuffix(lines[len(lines)-2], " in goroutine "+creator) {
			continue
		}
		state := ""
		if i, j := strings.Index(lines[0], "["), strings.Index(lines[0], "]"); i >= 0 && j > i {
			state, _, _ = strings.Cut(lines[0][i+1:j], ",")
		}
		desc := " outside Loop and Task"
		if frames := checkLearnerFrames(g); len(frames) > 0 {
			desc = checkAt(frames)
		}
		key := fmt.Sprintf("(%s)%s", state, desc)
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	if len(order) == 0 {
		return ""
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d blocked %s", counts[k], k))
	}
	return "Where they are: " + strings.Join(parts, "; ") + "."
}

// checkLearnerFrames returns the frames of one goroutine's stack trace that lie
// in the learner's file, innermost first, as "(*Task).Await at await.go:80".
func checkLearnerFrames(stack string) []string {
	lines := strings.Split(strings.TrimSpace(stack), "\n")
	var frames []string
	for i := 1; i+1 < len(lines); i += 2 {
		file, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), " ")
		if file = path.Base(file); strings.HasPrefix(file, "await.go:") {
			frames = append(frames, checkFuncName(lines[i])+" at "+file)
		}
	}
	return frames
}

// checkFuncName shortens a stack frame's function line
// ("github.com/…/03-await.(*Task).Await(0xc000012345)") to "(*Task).Await".
func checkFuncName(line string) string {
	if i := strings.LastIndex(line, "/"); i >= 0 {
		line = line[i+1:]
	}
	if i := strings.LastIndex(line, "("); i > 0 && strings.HasSuffix(line, ")") {
		line = line[:i]
	}
	_, name, ok := strings.Cut(line, ".")
	if !ok {
		return line
	}
	return name
}

// checkSpanner records labelled spans and counts how many of one kind run at once.
type checkSpanner struct {
	rec   *harness.Recorder
	gauge harness.Gauge
}

func checkNewSpanner(t0 time.Time) *checkSpanner { return &checkSpanner{rec: harness.NewRecorder(t0)} }

// during counts and records fn as one span.
func (s *checkSpanner) during(label string, fn func()) {
	exit := s.gauge.Enter()
	end := s.rec.Start(label)
	defer func() {
		end("ok")
		exit()
	}()
	fn()
}

// checkAwaitRun is one run of the Overlap or Sleep scenario.
type checkAwaitRun struct {
	checkOutcome
	peak  int // awaited functions (Overlap) or Sleep calls (Sleep) at once
	early int // Await calls that returned before their function finished, or Sleep calls shorter than the wait
	spans []harness.Span
}

// checkRunOverlap: every handler takes the loop and awaits a function that
// blocks for checkWait.
func checkRunOverlap() checkAwaitRun {
	l := NewLoop()
	s := checkNewSpanner(time.Now())
	var early atomic.Int64
	o := checkRunHandlers(checkHandlers, func(i int) {
		t := l.Acquire()
		var done atomic.Bool
		t.Await(func() {
			s.during(fmt.Sprintf("await %d", i+1), func() { time.Sleep(checkWait) })
			done.Store(true)
		})
		if !done.Load() {
			early.Add(1)
		}
		t.Release()
	})
	return checkAwaitRun{checkOutcome: o, peak: s.gauge.Peak(), early: int(early.Load()), spans: s.rec.Spans()}
}

// checkRunSleep: every handler takes the loop and calls Sleep(checkWait).
// Once they have all returned, checkRepeats more handlers do the same on
// the same loop, and their Sleeps count as short too: a Sleep that
// remembers a wait already done (in the Loop or a package-level variable)
// and skips it returns early there.
func checkRunSleep() checkAwaitRun {
	l := NewLoop()
	s := checkNewSpanner(time.Now())
	var short atomic.Int64
	sleep := func(t *Task) {
		start := time.Now()
		t.Sleep(checkWait)
		if time.Since(start) < checkWait {
			short.Add(1)
		}
	}
	o := checkRunHandlers(checkHandlers, func(i int) {
		t := l.Acquire()
		s.during(fmt.Sprintf("sleep %d", i+1), func() { sleep(t) })
		t.Release()
	})
	if o.stuck == 0 && o.panics == 0 {
		checkRunHandlers(checkRepeats, func(int) {
			t := l.Acquire()
			sleep(t)
			t.Release()
		})
	}
	return checkAwaitRun{checkOutcome: o, peak: s.gauge.Peak(), early: int(short.Load()), spans: s.rec.Spans()}
}

// checkRepeats is how many handlers sleep again on the same loop after a
// round of Sleeps.
const checkRepeats = 2

// checkJudgeAwaits judges a run of checkRunOverlap or checkRunSleep; kind names the call.
func checkJudgeAwaits(c *harness.Check, kind string, first checkAwaitRun, again func() checkAwaitRun) {
	if first.stuck > 0 {
		c.Timeline(first.spans)
		c.Fatal(first.deadlock("finishes in about 100 ms"))
	}
	if first.panics > 0 {
		c.Fail(first.panicked())
	}
	run, used := first, false
	c.AtMost(harness.Quantity{
		What:  fmt.Sprintf("%d handlers each calling %s for a %d ms wait, total time", checkHandlers, kind, checkWait.Milliseconds()),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("when %s gives the baton away during the wait, the %d waits overlap and all finish after about %d ms", kind, checkHandlers, checkWait.Milliseconds()),
		Cause: fmt.Sprintf("%s keeps the baton while it waits, so the handlers wait one after another.", kind),
	}, 3*harness.Ms(checkWait), func() float64 {
		if used {
			run = again()
		}
		used = true
		return harness.Ms(run.took)
	})
	c.Timeline(run.spans)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%s calls in progress at the same time (counted by the check)", kind),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("correct code has all %d in progress at once", checkHandlers),
		Cause: fmt.Sprintf("Only one handler at a time was inside %s: it keeps the baton while it waits, and the others wait in Acquire.", kind),
	}, "min", checkHandlers/2, float64(run.peak))
	what, cause := "Await calls that returned before their function had finished", "Await must run fn and wait for it (fn is the thing being waited for), not start it and return."
	if kind == "Sleep" {
		what = fmt.Sprintf("Sleep calls that returned in less than %d ms (%d, then %d more on the same loop)", checkWait.Milliseconds(), checkHandlers, checkRepeats)
		cause = "Sleep must wait the whole duration, with the loop free, every time: also for a duration the loop has slept before."
	}
	c.Value(harness.Quantity{What: what, Unit: harness.Count, Want: "correct code has none", Cause: cause}, "max", 0, float64(run.early))
}

func TestOverlap(t *testing.T) {
	c := harness.Begin(t, "10 handlers awaiting 100 ms each finish in about 100 ms")
	checkJudgeAwaits(c, "Await", checkRunOverlap(), checkRunOverlap)
}

func TestSleep(t *testing.T) {
	c := harness.Begin(t, "10 handlers calling Sleep(100 ms) finish in about 100 ms")
	checkJudgeAwaits(c, "Sleep", checkRunSleep(), checkRunSleep)
}

func TestExclusive(t *testing.T) {
	c := harness.Begin(t, "handler code never runs on two goroutines at once")
	// Each handler runs code on the loop three times, with two awaits in
	// between. The first piece is instant; the two after the awaits take
	// 5 ms each, so that code running without the baton overlaps.
	const work = 5 * time.Millisecond
	l := NewLoop()
	bodies := checkNewSpanner(time.Now())
	o := checkRunHandlers(checkHandlers, func(i int) {
		label := fmt.Sprintf("handler %d on the loop", i+1)
		t := l.Acquire()
		bodies.during(label, func() {})
		t.Await(func() { time.Sleep(checkWait / 2) })
		bodies.during(label, func() { time.Sleep(work) })
		t.Await(func() { time.Sleep(checkWait / 2) })
		bodies.during(label, func() { time.Sleep(work) })
		t.Release()
	})
	c.Timeline(bodies.rec.Drawn())
	if o.stuck > 0 {
		c.Fatal(o.deadlock("finishes in about 200 ms"))
	}
	if o.panics > 0 {
		c.Fail(o.panicked())
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("handlers running their code at the same instant (%d handlers, counted by the check around its code between Acquire, Await and Release)", checkHandlers),
		Unit:  harness.Count,
		Want:  "with one baton, handler code runs one handler at a time: the peak is 1",
		Cause: "Await returns without taking the baton back, so a handler carries on while another one holds the loop.",
	}, "max", 1, float64(bodies.gauge.Peak()))
}

func TestPanic(t *testing.T) {
	c := harness.Begin(t, "a panic inside Await reaches the handler, which then holds the loop again")
	// Handler A awaits a function that panics. A recovers and keeps running
	// code on the loop for 100 ms; handler B asks for the loop meanwhile and
	// may only get it after A's Release.
	l := NewLoop()
	t0 := time.Now()
	bodies := checkNewSpanner(t0)
	var aPanic, aRelease, bRelease any
	aBack, bAsking, aDone, bDone := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	var bWaited time.Duration
	go func() { // handler A; exits after its Release, unless the learner's code blocks it forever
		defer close(aDone)
		t := l.Acquire()
		bodies.during("A on the loop", func() {})
		aPanic = checkCatch(func() { t.Await(func() { time.Sleep(checkWait / 5); panic(checkBoom) }) })
		close(aBack)
		bodies.during("A on the loop, after the panic", func() {
			checkClosedWithin(bAsking, checkDeadline)
			time.Sleep(checkWait)
		})
		aRelease = checkCatch(t.Release)
	}()
	if !checkClosedWithin(aBack, checkDeadline) {
		c.Fatal(fmt.Sprintf("After %.0f s, Await had still not returned (with the panic) from a function that panicked after %d ms. %s Await must take the baton back and let the panic carry on.",
			checkDeadline.Seconds(), (checkWait / 5).Milliseconds(), checkBlockedAt(checkGoroutineID())))
	}
	go func() { // handler B; exits after its Release, unless the loop stays locked
		defer close(bDone)
		close(bAsking)
		asked := time.Now()
		t := l.Acquire()
		bWaited = time.Since(asked)
		bodies.during("B on the loop", func() {})
		bRelease = checkCatch(t.Release)
	}()
	locked := !checkClosedWithin(aDone, checkDeadline) || !checkClosedWithin(bDone, checkDeadline)
	c.Timeline(bodies.rec.Drawn())
	if locked {
		c.Fatal(fmt.Sprintf("After the panicking Await, handler B still had not got the loop %.0f s later: the loop stayed locked. %s Correct code hands it to B about %d ms after the panic, when A calls Release.",
			checkDeadline.Seconds(), checkBlockedAt(checkGoroutineID()), checkWait.Milliseconds()))
	}
	switch {
	case aPanic == nil:
		c.Fail("The awaited function panicked, but Await returned normally: the panic was swallowed. In correct code the panic carries on to the handler that called Await (with the baton back in its hands), like an exception through Python's await.")
	case aPanic != checkBoom:
		c.Fail(fmt.Sprintf("The awaited function panicked with %q, but the handler received a different panic: %v. Correct code lets the original panic carry on.", checkBoom, aPanic))
	}
	if aRelease != nil {
		c.Fail(fmt.Sprintf("After recovering from the panic, handler A's Release panicked: %v. A task must hold the loop again when Await returns, also when fn panicked.", aRelease))
	}
	if bRelease != nil {
		c.Fail(fmt.Sprintf("Handler B's Release panicked: %v.", bRelease))
	}
	c.Note(fmt.Sprintf("Handler B waited %.0f ms for the loop (correct code: about %d ms, while A finishes).", harness.Ms(bWaited), checkWait.Milliseconds()))
	c.Value(harness.Quantity{
		What:  "handlers running their code at the same instant after the panicking Await (counted by the check)",
		Unit:  harness.Count,
		Want:  "correct code takes the baton back before the panic leaves Await, so B waits for A: the peak is 1",
		Cause: "Await takes the baton back only when fn returns normally; when fn panics, that line is skipped. Take it back in a deferred function.",
	}, "max", 1, float64(bodies.gauge.Peak()))
}

func TestNested(t *testing.T) {
	c := harness.Begin(t, "an Await inside an awaited function just runs, and the task comes back to the loop once")
	// Part 1: one handler, alone, awaits a function that itself sleeps and
	// awaits, as a helper does that does not know it is already off the loop.
	l := NewLoop()
	short := checkWait / 5
	o := checkRunHandlers(1, func(int) {
		t := l.Acquire()
		t.Await(func() {
			t.Sleep(short)
			t.Await(func() { time.Sleep(short) })
		})
		t.Release()
	})
	const nestedCause = "Inside fn the task is already off the loop: an Await (or Sleep) there must just run its function, without giving or taking the baton. " +
		"Keep track of whether the task holds the baton (t.onLoop)."
	if o.stuck > 0 {
		c.Fatal(fmt.Sprintf("A handler that calls Sleep and Await inside an awaited function had not finished after %.0f s: it deadlocked. %s Correct code finishes in about %d ms. %s "+
			"Or an Await inside fn takes the baton although the outer Await takes it again afterwards.",
			checkDeadline.Seconds(), o.where, 2*short.Milliseconds(), checkDeadlockCause))
	}
	if o.panics > 0 {
		cause := checkPanicCause(o.firstAt)
		if n := strings.Count(strings.Join(o.firstAt, " "), "(*Task).Await "); n >= 2 || (n == 1 && strings.Contains(strings.Join(o.firstAt, " "), "(*Task).Sleep ")) {
			cause = nestedCause // the panic came from an Await or Sleep inside fn
		}
		c.Fatal(fmt.Sprintf("A handler that calls Sleep and Await inside an awaited function panicked%s: %q. %s", checkAt(o.firstAt), fmt.Sprint(o.first), cause))
	}

	// Part 2: ten handlers at once, so every rule is tested with
	// competitors present. Each awaits a function that itself awaits and
	// sleeps, as a helper does that does not know it is already off the
	// loop; then it awaits once more, straight from its code on the loop.
	// A nested call that takes the baton for its function makes the
	// competitors wait their turn: ten nested waits one after another.
	l = NewLoop()
	t0 := time.Now()
	bodies, outer, inner, again := checkNewSpanner(t0), checkNewSpanner(t0), checkNewSpanner(t0), checkNewSpanner(t0)
	var sleepsMu sync.Mutex
	var sleeps []float64 // how long each nested Sleep took, in ms
	const nestedWait, nestedSleep = checkWait / 2, checkWait / 4
	fetch := func(t *Task) { t.Await(func() { time.Sleep(nestedWait) }) } // like an async helper that awaits
	o = checkRunHandlers(checkHandlers, func(i int) {
		label := fmt.Sprintf("handler %d on the loop", i+1)
		t := l.Acquire()
		bodies.during(label, func() {})
		t.Await(func() {
			outer.during(fmt.Sprintf("handler %d awaits", i+1), func() {
				t.Await(func() {
					inner.during(fmt.Sprintf("handler %d, nested Await's function", i+1), func() { time.Sleep(nestedWait) })
				})
				start := time.Now()
				t.Sleep(nestedSleep)
				sleepsMu.Lock()
				sleeps = append(sleeps, harness.Ms(time.Since(start)))
				sleepsMu.Unlock()
			})
		})
		bodies.during(label, func() {})
		again.during(fmt.Sprintf("handler %d awaits again", i+1), func() { fetch(t) })
		bodies.during(label, func() {})
		t.Release()
	})
	c.Timeline(append(bodies.rec.Drawn(), inner.rec.Drawn()...))
	if o.stuck > 0 {
		c.Fatal(o.deadlock("finishes in about 100 ms"))
	}
	if o.panics > 0 {
		c.Fail(o.panicked())
	}
	c.Value(harness.Quantity{
		What:  "handlers running their code at the same instant, with nested awaits (counted by the check)",
		Unit:  harness.Count,
		Want:  "correct code gives the baton once and takes it back once per outer Await: the peak is 1",
		Cause: nestedCause,
	}, "max", 1, float64(bodies.gauge.Peak()))
	if outer.gauge.Peak() < checkHandlers/2 {
		// Await keeps the baton even without nesting; the Overlap check
		// reports that, and nesting cannot be judged here.
		c.Note(fmt.Sprintf("The outer awaits did not overlap either (at most %d at once), so nested awaits cannot be judged here; see the Overlap check.", outer.gauge.Peak()))
		return
	}
	const takesBaton = "An Await (or Sleep) inside fn takes the baton for its function, so the nested waits of different handlers run one at a time: " +
		"inside fn the task is already off the loop (t.onLoop is false), and a nested call must just run its function, without taking or giving the baton."
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("functions of nested Awaits running at the same time (%d handlers each await one inside an awaited function, counted by the check)", checkHandlers),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a nested Await just runs its function, off the loop, so all %d run at once", checkHandlers),
		Cause: takesBaton,
	}, "min", checkHandlers/2, float64(inner.gauge.Peak()))
	if len(sleeps) > 0 {
		c.Value(harness.Quantity{
			What:  fmt.Sprintf("median time of %d nested Sleep(%d ms) calls, made inside awaited functions while other handlers await", len(sleeps), nestedSleep.Milliseconds()),
			Unit:  harness.Millis,
			Want:  fmt.Sprintf("a nested Sleep just sleeps, off the loop, so each takes about %d ms", nestedSleep.Milliseconds()),
			Cause: takesBaton,
		}, "max", 3*harness.Ms(nestedSleep), checkMedian(sleeps))
	}
	c.Value(harness.Quantity{
		What:  "handlers in their next await at the same time (an await on the loop, after the nested one)",
		Unit:  harness.Count,
		Want:  fmt.Sprintf("after a nested Await the task is back on the loop, so its next Await gives the loop away again: about %d at once", checkHandlers),
		Cause: "After the outer Await returns, the task must count as on the loop again (t.onLoop = true), or its next Await keeps the baton.",
	}, "min", checkHandlers/2, float64(again.gauge.Peak()))
}

// checkMedian returns the middle value of s (the mean of the two middle ones
// for an even count).
func checkMedian(s []float64) float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

func TestNoLeaks(t *testing.T) {
	c := harness.Begin(t, "no goroutine is left running once every handler has finished")
	before := runtime.NumGoroutine()
	l := NewLoop()
	o := checkRunHandlers(checkHandlers, func(i int) {
		t := l.Acquire()
		if i%2 == 0 {
			t.Await(func() { time.Sleep(checkWait / 2) })
		} else {
			t.Sleep(checkWait / 2)
		}
		t.Release()
	})
	if o.stuck > 0 {
		c.Fail(o.deadlock("finishes in about 50 ms"))
	} else if o.panics > 0 {
		c.Fail(o.panicked())
	}
	left := harness.Goroutines(before, time.Second)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("goroutines left running after %d handlers using Await and Sleep finished (given up to 1 s to end), beyond those running before", checkHandlers),
		Unit:  harness.Count,
		Want:  "correct code leaves none: every goroutine it starts ends when its wait ends",
		Cause: "Handlers are stuck waiting for the baton, or Await or Sleep start goroutines that never end.",
	}, "max", 0, float64(max(left-before, 0)))
}
