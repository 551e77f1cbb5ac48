//go:build tutorcheck

package pool

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The contract the checks hold Run to. Every job the checks hand to Run
// sleeps: a sleeping job costs no CPU, so its length holds on a busy
// machine, and time is judged in rounds of checkD.
const (
	checkD       = 60 * time.Millisecond  // one job's length: a round of the staircase
	checkIdleMax = 60 * time.Millisecond  // the longest a free slot may wait while jobs wait
	checkSpare   = 3                      // goroutines allowed beyond one per running job
	checkSettle  = 300 * time.Millisecond // how long after Run returns its goroutines may take to end
)

// checkKind is what a job the checks hand to Run does after its sleep.
type checkKind int

const (
	checkReturn checkKind = iota // returns its value
	checkError                   // returns its error
	checkPanic                   // panics with its own message
)

// checkGauge hands out jobs and watches them: it counts the jobs running at
// once (the gauge), how often each job was called, how long a free slot
// stayed unused while jobs were waiting, and how many goroutines the
// process had while jobs ran.
type checkGauge struct {
	limit int
	nonce string // fresh for every gauge, so values cannot be remembered
	t0    time.Time
	base  int // goroutines before Run was called, plus the one calling it

	mu          sync.Mutex
	n           int
	inFlight    int
	maxInFlight int
	started     int
	calls       []int
	errs        []error
	idle        bool
	idleFrom    time.Time
	maxIdle     time.Duration
	maxGor      int
	spans       []harness.Span
}

func checkNewGauge(limit int) *checkGauge {
	return &checkGauge{limit: limit, nonce: fmt.Sprintf("%08x", rand.Uint32())}
}

// value is what job i returns.
func (g *checkGauge) value(i int) string { return fmt.Sprintf("job %d (%s)", i, g.nonce) }

// err is the error job i returns when it fails.
func (g *checkGauge) err(i int) error { return fmt.Errorf("job %d failed (%s)", i, g.nonce) }

// panicValue is what job i panics with.
func (g *checkGauge) panicValue(i int) string { return fmt.Sprintf("job %d panicked (%s)", i, g.nonce) }

// jobs returns one job per duration; kinds (may be nil) says what each
// does after its sleep.
func (g *checkGauge) jobs(durs []time.Duration, kinds map[int]checkKind) []Job {
	g.n = len(durs)
	g.calls = make([]int, len(durs))
	g.errs = make([]error, len(durs))
	out := make([]Job, len(durs))
	for i, d := range durs {
		kind := kinds[i]
		g.errs[i] = g.err(i)
		out[i] = func() (string, error) {
			g.begin(i)
			defer g.end(i)
			time.Sleep(d)
			switch kind {
			case checkError:
				return "", g.errs[i]
			case checkPanic:
				panic(g.panicValue(i))
			}
			return g.value(i), nil
		}
	}
	return out
}

// begin and end are the gauge: every job calls them when it starts and
// ends (end also during a panic).
func (g *checkGauge) begin(i int) {
	now := time.Now()
	gor := runtime.NumGoroutine()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls[i]++
	g.started++
	g.inFlight++
	g.maxInFlight = max(g.maxInFlight, g.inFlight)
	g.maxGor = max(g.maxGor, gor)
	g.spans = append(g.spans, harness.Span{Label: fmt.Sprintf("job %d", i), Start: now.Sub(g.t0), End: -1})
	g.idleCheck(now)
}

func (g *checkGauge) end(i int) {
	now := time.Now()
	gor := runtime.NumGoroutine()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	g.maxGor = max(g.maxGor, gor)
	label := fmt.Sprintf("job %d", i)
	for k := len(g.spans) - 1; k >= 0; k-- {
		if g.spans[k].Label == label && g.spans[k].End < 0 {
			g.spans[k].End = now.Sub(g.t0)
			g.spans[k].Outcome = "ok"
			break
		}
	}
	g.idleCheck(now)
}

// idleCheck notes when a slot is free (fewer than limit jobs run) while
// jobs are still waiting to start, and how long that lasted. g.mu is held.
func (g *checkGauge) idleCheck(now time.Time) {
	free := g.inFlight < g.limit && g.started < g.n
	switch {
	case free && !g.idle:
		g.idle, g.idleFrom = true, now
	case !free && g.idle:
		g.idle = false
		g.maxIdle = max(g.maxIdle, now.Sub(g.idleFrom))
	}
}

// checkOutcome is what one call of Run did.
type checkOutcome struct {
	results  []Result
	took     time.Duration
	panicked any  // what came out of Run, if it panicked
	returned bool // false: Run did not return within harness.Deadline
}

// run calls Run(limit, jobs) in a goroutine of the check's and waits for
// it, at most harness.Deadline. A panic that comes out of Run is caught
// and returned.
func (g *checkGauge) run(jobs []Job) checkOutcome {
	g.mu.Lock()
	g.base = runtime.NumGoroutine() + 1 // + the goroutine that calls Run
	g.t0 = time.Now()
	g.idle, g.idleFrom = g.n > 0, g.t0 // every slot is free when Run is called
	g.mu.Unlock()
	done := make(chan checkOutcome, 1)
	go func() { // ends when Run returns or panics
		var o checkOutcome
		defer func() {
			if p := recover(); p != nil {
				o.panicked = p
			}
			o.took = time.Since(g.t0)
			done <- o
		}()
		o.results = Run(g.limit, jobs)
	}()
	select {
	case o := <-done:
		o.returned = true
		g.mu.Lock()
		if g.idle { // Run returned while jobs were still waiting
			g.maxIdle = max(g.maxIdle, time.Since(g.idleFrom))
			g.idle = false
		}
		g.mu.Unlock()
		return o
	case <-time.After(harness.Deadline):
		return checkOutcome{}
	}
}

// timeline returns the jobs' spans for the page.
func (g *checkGauge) timeline() []harness.Span {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(g.spans)
	for i := range out {
		if out[i].End < 0 {
			out[i].End, out[i].Outcome = time.Since(g.t0), "late"
		}
	}
	return out
}

// checkSame returns n copies of d.
func checkSame(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// checkCeil is ⌈n/k⌉.
func checkCeil(n, k int) int { return (n + k - 1) / k }

// checkMust stops the check when Run did not return or panicked: nothing
// else it measured can be trusted then.
func checkMust(c *harness.Check, o checkOutcome, what string) {
	if !o.returned {
		c.Fatal(fmt.Sprintf("Run(%s) did not return within %s. Run returns when every job has ended; is a slot never given back, or does Run wait for a goroutine that never ends?", what, harness.Deadline))
	}
	if o.panicked != nil {
		c.Fatal(fmt.Sprintf("Run(%s) panicked: %v. A job's panic belongs in that job's Result, as an error; Run itself must not panic.", what, o.panicked))
	}
}

// checkResults judges Run's results against what the gauge's jobs return:
// one Result per job, in the order of jobs, and every job called exactly
// once. It returns the number of jobs whose Result is right.
func checkResults(c *harness.Check, g *checkGauge, o checkOutcome, kinds map[int]checkKind) int {
	g.mu.Lock()
	calls := slices.Clone(g.calls)
	g.mu.Unlock()
	var problems []string
	if len(o.results) != g.n {
		problems = append(problems, fmt.Sprintf("Run returned %d results for %d jobs", len(o.results), g.n))
	}
	right := 0
	var never []string   // jobs never called
	var earlier []string // results from an earlier call
	for i := range g.n {
		var r Result
		if i < len(o.results) {
			r = o.results[i]
		}
		switch {
		case strings.HasPrefix(r.Value, fmt.Sprintf("job %d (", i)) && r.Value != g.value(i):
			earlier = append(earlier, strconv.Itoa(i))
			continue
		case calls[i] == 0:
			never = append(never, strconv.Itoa(i))
			continue
		case calls[i] > 1:
			problems = append(problems, fmt.Sprintf("job %d was called %d times: every job runs exactly once", i, calls[i]))
			continue
		case i >= len(o.results):
			continue
		}
		switch kinds[i] {
		case checkError:
			if errors.Is(r.Err, g.errs[i]) && r.Value == "" {
				right++
			} else {
				problems = append(problems, fmt.Sprintf("results[%d] is {%q, %v}; job %d returned the error %q, which its Result must carry", i, r.Value, r.Err, i, g.errs[i]))
			}
		case checkPanic:
			if r.Err != nil && strings.Contains(r.Err.Error(), g.panicValue(i)) {
				right++
			} else if r.Err == nil {
				problems = append(problems, fmt.Sprintf("results[%d] is {%q, nil}: job %d panicked with %q, and its Result has no error, so the panic was lost", i, r.Value, i, g.panicValue(i)))
			} else {
				problems = append(problems, fmt.Sprintf("results[%d].Err is %q: job %d panicked with %q, and the error must say so", i, r.Err, i, g.panicValue(i)))
			}
		default:
			want := g.value(i)
			if r.Value == want && r.Err == nil {
				right++
				continue
			}
			other := -1
			for j := range g.n {
				if r.Value == g.value(j) {
					other = j
				}
			}
			if other >= 0 {
				problems = append(problems, fmt.Sprintf("results[%d] holds job %d's value: results must be in the order of jobs, not in the order the jobs ended", i, other))
			} else {
				problems = append(problems, fmt.Sprintf("results[%d] is {%q, %v}; job %d returned %q", i, r.Value, r.Err, i, want))
			}
		}
	}
	if len(earlier) > 0 {
		problems = append([]string{fmt.Sprintf("%d of %d results hold values from an earlier call of Run (results %s), not what this call's jobs returned: run every job, every time, and keep no results between calls", len(earlier), g.n, strings.Join(earlier, ", "))}, problems...)
	}
	if len(never) > 0 {
		problems = append([]string{fmt.Sprintf("%d of %d jobs were never called (job %s): every job runs exactly once, even after another job failed", len(never), g.n, strings.Join(never, ", "))}, problems...)
	}
	if len(problems) > 3 {
		problems = append(problems[:3], fmt.Sprintf("and %d more like these", len(problems)-3))
	}
	if len(problems) > 0 {
		c.Fail(strings.Join(problems, "; ") + ".")
	}
	return right
}

// TestLimit: the gauge counts the jobs running at once; it must reach
// the limit and never pass it.
func TestLimit(t *testing.T) {
	c := harness.Begin(t, "at most limit jobs run at once, and the limit is used")
	k := 3 + rand.IntN(3) // 3, 4 or 5: the limit is whatever Run is given
	n := 3*k + 1
	g := checkNewGauge(k)
	o := g.run(g.jobs(checkSame(n, checkD), nil))
	c.Timeline(g.timeline())
	what := fmt.Sprintf("%d jobs, limit %d", n, k)
	checkMust(c, o, what)
	g.mu.Lock()
	most := g.maxInFlight
	g.mu.Unlock()
	over := "More jobs ran at once than the limit: nothing in Run waits while limit jobs run, so every job starts at once. Take a slot before each job starts."
	if most == k+1 {
		over = "One job more than the limit ran at once: does the test for a free slot let one too many through (waiting while running > limit where >= belongs, a channel of limit+1)?"
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%s, most jobs running at once", what),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a bounded pool runs exactly %d at once", k),
		Cause: over,
	}, "max", float64(k), float64(most))
	under := "Fewer jobs ran at once than the limit allows: does Run wait for each job before it starts the next, or is the limit one short?"
	if most == 0 {
		under = "Run called none of the jobs: every job runs exactly once."
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%s, most jobs running at once (the limit must be used)", what),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a bounded pool reaches %d at once while jobs wait", k),
		Cause: under,
	}, "min", float64(k), float64(most))
}

// TestStaircase: n equal jobs with limit k take ⌈n/k⌉ rounds.
func TestStaircase(t *testing.T) {
	c := harness.Begin(t, "n jobs with limit k take ⌈n/k⌉ rounds of one job's time")
	const n, k = 11, 4
	rounds := checkCeil(n, k)
	predicted := float64(rounds) * harness.Ms(checkD)
	what := fmt.Sprintf("%d jobs × %d ms, limit %d, total time", n, checkD.Milliseconds(), k)
	want := fmt.Sprintf("about %.0f ms: ⌈%d/%d⌉ = %d rounds of %d ms", predicted, n, k, rounds, checkD.Milliseconds())
	var last *checkGauge
	var lastTook float64
	measure := func() float64 {
		g := checkNewGauge(k)
		o := g.run(g.jobs(checkSame(n, checkD), nil))
		checkMust(c, o, fmt.Sprintf("%d jobs, limit %d", n, k))
		last, lastTook = g, harness.Ms(o.took)
		return lastTook
	}
	reused := false
	again := func() float64 { // the last sample first, then new ones
		if !reused {
			reused = true
			return lastTook
		}
		return measure()
	}
	c.AtMost(harness.Quantity{
		What: what, Unit: harness.Millis, Want: want, Band: 0.5, Beyond: 0.3,
		Cause: fmt.Sprintf("That is more rounds than %d: do jobs run one at a time, or does Run wait for a whole group of jobs to end before it starts the next?", rounds),
	}, 2.5*predicted, measure)
	c.AtLeast(harness.Quantity{
		What: what + " (a floor: the jobs' own sleeps)", Unit: harness.Millis, Want: want, Band: 0.5,
		Cause: "No bounded pool is that fast: more jobs ran at once than the limit, or jobs were not run and waited for.",
	}, predicted*4/9, again) // 80 ms: above one round (60 ms), under half the staircase
	c.Timeline(last.timeline())
}

// TestSlotReuse: when a job ends and others wait, the next one starts at
// once. Jobs of mixed lengths show a runner that waits for a whole group
// (or for each job) before it starts more.
func TestSlotReuse(t *testing.T) {
	c := harness.Begin(t, "a free slot is taken by the next waiting job at once")
	const k = 3
	// Every group of three has one long job and two short ones.
	var durs []time.Duration
	for range 4 {
		durs = append(durs, 4*checkD, checkD/2, checkD/2)
	}
	what := fmt.Sprintf("%d jobs of %d and %d ms, limit %d, longest time a slot stayed free while jobs waited", len(durs), (4 * checkD).Milliseconds(), (checkD / 2).Milliseconds(), k)
	var last *checkGauge
	c.AtMost(harness.Quantity{
		What: what, Unit: harness.Millis,
		Want:  "a bounded pool starts the next waiting job as soon as one ends: well under a millisecond",
		Cause: "A slot stayed free while jobs waited: does Run wait for a group of jobs (or for each job) to end before it starts more?",
	}, harness.Ms(checkIdleMax), func() float64 {
		g := checkNewGauge(k)
		o := g.run(g.jobs(durs, nil))
		checkMust(c, o, fmt.Sprintf("%d jobs, limit %d", len(durs), k))
		last = g
		g.mu.Lock()
		defer g.mu.Unlock()
		return harness.Ms(g.maxIdle)
	})
	c.Timeline(last.timeline())
}

// TestResults: every job runs exactly once, each result lands in its own
// place, errors are kept, and a second call of Run runs its own jobs.
func TestResults(t *testing.T) {
	c := harness.Begin(t, "every job runs once and results come back complete, in the order of jobs")
	const n, k = 8, 3
	// Later jobs are shorter, so jobs end in a different order than they start.
	durs := make([]time.Duration, n)
	for i := range durs {
		durs[i] = time.Duration(n-i) * 8 * time.Millisecond
	}
	kinds := map[int]checkKind{1: checkError}
	right := 0
	for call := range 2 { // a second call, with fresh values, after the first
		g := checkNewGauge(k)
		o := g.run(g.jobs(durs, kinds))
		checkMust(c, o, fmt.Sprintf("%d jobs, limit %d (call %d)", n, k, call+1))
		right += checkResults(c, g, o, kinds)
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("two calls of Run with %d jobs each, results that are exactly what their job returned", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("all %d, each at its job's index, job 1's error included", 2*n),
		Cause: "Some results are missing, misplaced or not what the job returned: see the sentences above.",
	}, "min", float64(2*n), float64(right))
}

// TestPanic: a job that panics becomes an error in its Result; the other
// jobs still run, and Run returns.
func TestPanic(t *testing.T) {
	c := harness.Begin(t, "a job that panics is reported as an error in its Result, and the others still run")
	const n, k = 6, 2
	kinds := map[int]checkKind{2: checkPanic}
	g := checkNewGauge(k)
	o := g.run(g.jobs(checkSame(n, checkD/3), kinds))
	c.Timeline(g.timeline())
	checkMust(c, o, fmt.Sprintf("%d jobs, limit %d, job 2 panics", n, k))
	right := checkResults(c, g, o, kinds)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d jobs, job 2 panics, results that are exactly what their job did", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("all %d: job 2's Result carries an error that says what it panicked with", n),
		Cause: "Recover the panic in the goroutine that runs the job (a deferred recover()), and put it in that job's Result as an error.",
	}, "min", n, float64(right))
}

// TestGoroutines: while jobs wait, no goroutine waits with them: one
// goroutine per running job, started when a slot is free.
func TestGoroutines(t *testing.T) {
	c := harness.Begin(t, "goroutines are started when a slot is free: at most one per running job")
	for _, p := range []struct{ n, k int }{{24, 3}, {3, 200}} {
		g := checkNewGauge(p.k)
		jobs := g.jobs(checkSame(p.n, checkD/2), nil)
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() { // samples the goroutine count every millisecond until stop closes
			defer close(sampled)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				n := runtime.NumGoroutine()
				g.mu.Lock()
				if !g.t0.IsZero() {
					g.maxGor = max(g.maxGor, n)
				}
				g.mu.Unlock()
			}
		}()
		o := g.run(jobs) // its base count includes the sampler
		close(stop)
		<-sampled
		what := fmt.Sprintf("%d jobs, limit %d", p.n, p.k)
		checkMust(c, o, what)
		g.mu.Lock()
		extra, started := max(g.maxGor-g.base, 0), g.started
		g.mu.Unlock()
		if started < p.n {
			c.Fail(fmt.Sprintf("Run(%s) called %d of the %d jobs, so the goroutines it needs could not be counted: every job runs exactly once, every time Run is called.", what, started, p.n))
			continue
		}
		busy := min(p.n, p.k)
		cause := "Goroutines were started for jobs that had to wait for a slot: take the slot first, then start the goroutine (acquire before go)."
		if p.n < p.k {
			cause = "Goroutines were started with no job to run: start one when there is a job and a free slot, not a fixed set of limit workers."
		}
		c.Value(harness.Quantity{
			What:  what + ", most goroutines of Run's alive at once",
			Unit:  harness.Count,
			Want:  fmt.Sprintf("about %d, one per running job (%d more are allowed)", busy, checkSpare),
			Cause: cause,
		}, "max", float64(busy+checkSpare), float64(extra))
	}
}

// TestNothingLeft: when Run returns, every goroutine it started has ended.
func TestNothingLeft(t *testing.T) {
	c := harness.Begin(t, "no goroutine of Run's is left after it returns")
	const n, k = 10, 3
	g := checkNewGauge(k)
	base := runtime.NumGoroutine()
	o := g.run(g.jobs(checkSame(n, checkD/3), nil))
	checkMust(c, o, fmt.Sprintf("%d jobs, limit %d", n, k))
	deadline := time.Now().Add(checkSettle)
	left := runtime.NumGoroutine() - base
	for left > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		left = runtime.NumGoroutine() - base
	}
	cause := "Goroutines of Run's still run after it returned: do workers wait on a channel nobody closes?"
	if left > 0 {
		if seen := checkLeftover(); seen != "" {
			cause += " One is waiting in " + seen + "."
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d jobs, limit %d, goroutines of Run's still running after it returned (the check waits up to %d ms)", n, k, checkSettle.Milliseconds()),
		Unit:  harness.Count,
		Want:  "none: every goroutine Run starts ends before Run returns",
		Cause: cause,
	}, "max", 0, float64(max(left, 0)))
}

// checkLeftover describes one goroutine that runs code of the learner's
// package (not the checks'): its innermost such function and its state.
func checkLeftover() string {
	self := runtime.FuncForPC(reflect.ValueOf(checkNewGauge).Pointer()).Name()
	pkg := strings.TrimSuffix(self, "checkNewGauge") // "…/10-bounded-pool."
	learner := func(fn string) bool {
		rest, ok := strings.CutPrefix(fn, pkg)
		return ok && !strings.HasPrefix(rest, "Test") && !strings.HasPrefix(rest, "check") && !strings.HasPrefix(rest, "(*check")
	}
	for _, gr := range harness.LiveGoroutines() {
		for _, fn := range append(slices.Clone(gr.Funcs), gr.CreatedBy) {
			if learner(fn) {
				return fmt.Sprintf("%s (%s)", strings.TrimPrefix(fn, pkg[:strings.LastIndex(pkg, "/")+1]), gr.State)
			}
		}
	}
	return ""
}
