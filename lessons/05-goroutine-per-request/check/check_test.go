//go:build tutorcheck

package visits

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// checkSlow is how long one call to the checks' downstream takes.
const checkSlow = 100 * time.Millisecond

// checkFake is the downstream service the checks hand to New. It waits delay (or
// until the call's context ends), counts the calls in flight and records
// each call as a span when rec is set.
type checkFake struct {
	delay    time.Duration
	rec      *harness.Recorder
	inFlight harness.Gauge
	calls    atomic.Int64

	// keep makes the fake remember every visit number it is handed. The
	// checkHammer leaves it off: a lock here would space out the learner's
	// updates and hide lost ones.
	keep   bool
	mu     sync.Mutex
	handed []int // the visit number of every call, in call order (with keep)
}

func (f *checkFake) call(ctx context.Context, page string, n int) error {
	defer f.inFlight.Enter()()
	f.calls.Add(1)
	if f.keep {
		f.mu.Lock()
		f.handed = append(f.handed, n)
		f.mu.Unlock()
	}
	end := func(string) {}
	if f.rec != nil {
		end = f.rec.Start(fmt.Sprintf("call for visit %d", n))
	}
	if f.delay <= 0 {
		end("ok")
		return nil
	}
	timer := time.NewTimer(f.delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		end("ok")
		return nil
	case <-ctx.Done():
		end("error")
		return fmt.Errorf("downstream gave up: %w", ctx.Err())
	}
}

// checkStart makes a service that reports to f, serves it on loopback and
// returns it with the URL of a visit to the page "home".
func checkStart(t *testing.T, f *checkFake) (*Service, string) {
	t.Helper()
	svc := New(t.Context(), f.call)
	return svc, harness.Serve(t, svc) + "/visit?page=home"
}

// numbers returns the visit numbers the downstream was handed.
func (f *checkFake) numbers() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.handed)
}

// checkUnmatched counts the numbers in answers that the downstream was not
// handed, matching each handed number at most once.
func checkUnmatched(answers, handed []int) int {
	left := map[int]int{}
	for _, n := range handed {
		left[n]++
	}
	missing := 0
	for _, n := range answers {
		if left[n] == 0 {
			missing++
			continue
		}
		left[n]--
	}
	return missing
}

// checkHanded judges that every visit reported its own number: the number
// it answered with is the one the downstream got.
func checkHanded(c *harness.Check, f *checkFake, answers []int) {
	handed := f.numbers()
	if !c.Value(harness.Quantity{
		What:  fmt.Sprintf("Visits whose number was not the one handed to the downstream (%d visits)", len(answers)),
		Unit:  harness.Count,
		Want:  "each visit reports its own number downstream, the one it answers with: the downstream gets every number the visits answer, once each",
		Cause: "The downstream got other numbers than the visits answered: pass the visit's own number n, the one you answer with, to the downstream call (not a count read later, nor a constant).",
	}, "max", 0, float64(checkUnmatched(answers, handed))) {
		c.Note(fmt.Sprintf("Visits answered: %s. The downstream was handed: %s.", checkSummary(answers), checkSummary(handed)))
	}
}

// checkVisitNumbers reads the visit number each response carries. bad holds the
// first body that is not a plain number.
func checkVisitNumbers(bodies []string) (ns []int, bad string, ok bool) {
	for _, b := range bodies {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil {
			return nil, b, false
		}
		ns = append(ns, n)
	}
	return ns, "", true
}

// checkDistinct counts the different numbers in ns that lie in 1..hi.
func checkDistinct(ns []int, hi int) int {
	seen := make([]bool, hi+1)
	count := 0
	for _, n := range ns {
		if n >= 1 && n <= hi && !seen[n] {
			seen[n] = true
			count++
		}
	}
	return count
}

// checkSummary prints visit numbers compactly: "1 ×10" or "1, 2, 2, 3".
func checkSummary(ns []int) string {
	s := slices.Sorted(slices.Values(ns))
	if len(s) > 1 && s[0] == s[len(s)-1] {
		return fmt.Sprintf("%d ×%d", s[0], len(s))
	}
	if len(s) > 12 {
		return fmt.Sprintf("%d numbers from %d to %d", len(s), s[0], s[len(s)-1])
	}
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// checkFailures describes requests that got no 2xx answer.
func checkFailures(failed []harness.Result, n int) string {
	r := failed[0]
	why := fmt.Sprintf("status %d, body %q", r.Status, strings.TrimSpace(r.Body))
	if r.Err != nil {
		why = r.Err.Error()
	}
	return fmt.Sprintf("%d of %d visits got no 200 answer (first: %s, after %.0f ms).", len(failed), n, why, harness.Ms(r.End-r.Start))
}

const checkLostUpdate = "Requests read the count before other requests wrote theirs back, so visits were lost or numbers handed out twice (a lost update). " +
	"Reading, adding and writing the count must happen together, in one critical section or one atomic operation, and that section must not include the slow call."

// TestExactCounts runs first on purpose: code that touches the map without
// a lock can crash the whole test binary ("concurrent map writes"), and the
// crash belongs to this check.
func TestExactCounts(t *testing.T) {
	c := harness.Begin(t, "every visit is counted once and gets its own number")

	// Part 1: visits at once over HTTP, with a slow call, the way a server
	// really sees them.
	const n = 10
	f := &checkFake{delay: checkSlow / 2, keep: true}
	svc, url := checkStart(t, f)
	rs := harness.Fire(t.Context(), time.Now(), url, n, "visit")
	c.Timeline(harness.Spans(rs))
	if failed := harness.Failed(rs); len(failed) > 0 {
		c.Fatal(checkFailures(failed, n))
	}
	bodies := make([]string, n)
	for i, r := range rs {
		bodies[i] = r.Body
	}
	ns, bad, ok := checkVisitNumbers(bodies)
	if !ok {
		c.Fatal(fmt.Sprintf("A visit must be answered with its number alone, like \"3\"; got %q.", bad))
	}
	if !c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d visits to one page at once (each reports to a %d ms downstream): different numbers from 1 to %d handed out", n, checkSlow.Milliseconds()/2, n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("correct code hands out every number from 1 to %d exactly once", n),
		Cause: checkLostUpdate,
	}, "min", n, float64(checkDistinct(ns, n))) {
		c.Note(fmt.Sprintf("Numbers handed out: %s.", checkSummary(ns)))
	}
	if got := svc.Count("home"); got != n {
		c.Fail(fmt.Sprintf("After %d visits, Count(%q) = %d, want %d.", n, "home", got, n))
	}
	checkHanded(c, f, ns)
	if t.Failed() {
		// Part 2 could only add a crash to a verdict that is already clear.
		return
	}

	// Part 2: quick visits from several goroutines straight into ServeHTTP
	// for a while, so that unprotected updates collide even without the race
	// detector. Most of them visit a page that the same service has already
	// counted and reported, so code that remembers a page and skips its
	// downstream call (in a map of the service or a package-level variable)
	// calls the downstream less often than it answers.
	pages := []string{"a", "b"}
	f2 := &checkFake{}
	svc2 := New(t.Context(), f2.call)
	got, finished := checkHammer(svc2, pages, checkHammerWorkers, checkHammerTime())
	if !finished {
		c.Fatal(fmt.Sprintf("Quick visits from %d goroutines were still not answered %s after the check stopped sending them: is a lock never released?", checkHammerWorkers, harness.Deadline))
	}
	sent, handed := 0, 0
	var sample []int
	for p, page := range pages {
		sent += len(got[p])
		handed += checkDistinct(got[p], len(got[p]))
		if p == 0 {
			sample = got[p]
		}
		if cnt := svc2.Count(page); cnt != len(got[p]) {
			c.Fail(fmt.Sprintf("After %d quick visits to page %q, Count(%q) = %d, want %d.", len(got[p]), page, page, cnt, len(got[p])))
		}
	}
	if !c.Value(harness.Quantity{
		What:  fmt.Sprintf("Quick visits to 2 pages from %d goroutines at once (no slow call): different visit numbers handed out", checkHammerWorkers),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("correct code hands out one number per visit, every number from 1 up to the page's visit count (%d visits were sent)", sent),
		Cause: checkLostUpdate,
	}, "min", float64(sent), float64(handed)) {
		c.Note(fmt.Sprintf("Page %q: %d visits got %d different numbers.", pages[0], len(sample), checkDistinct(sample, len(sample))))
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Quick visits to 2 pages from %d goroutines at once (no slow call): downstream calls for %d visits", checkHammerWorkers, sent),
		Unit:  harness.Count,
		Want:  "every visit reports its own number downstream, also a visit to a page reported before: at least one call per visit",
		Cause: "Visits were answered without calling the downstream: the service remembered that a page had been reported before (in a map of the service or a package-level variable) and skipped the call. Every visit must be reported, with its own number.",
	}, "min", float64(sent), float64(f2.calls.Load()))
}

// The hammer's size: enough goroutines and threads to keep every core busy,
// for long enough that two of them meet in an unprotected update many times
// over.
const (
	checkHammerWorkers = 16
	checkHammerProcs   = 4 // threads per core during the hammer
)

// checkHammerTime is how long the hammer runs. The race detector reports an
// unprotected access the first time it happens, so under -race a short run
// is enough. Without it, two updates must really collide, and on a busy
// machine the checks' threads rarely run side by side: measured on 2 busy
// cores, 150 ms let 3 to 5 in 20 unlocked counters through, 400 ms none.
func checkHammerTime() time.Duration {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return 150 * time.Millisecond
			}
		}
	}
	return 400 * time.Millisecond
}

// checkHammer calls svc.ServeHTTP from workers goroutines, cycling through pages,
// for about d. It returns the visit number of every answer, per page (0 for
// an answer that is not a number), and whether all workers returned within
// harness.Deadline after d.
func checkHammer(svc http.Handler, pages []string, workers int, d time.Duration) ([][]int, bool) {
	// More threads than cores: besides the cores running workers side by
	// side, the operating system now also switches threads in the middle of
	// an update, which makes collisions likely even on a busy machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(checkHammerProcs * runtime.NumCPU()))
	var stop atomic.Bool
	got := make([][][]int, workers) // worker → page → numbers
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for w := range workers {
		got[w] = make([][]int, len(pages))
		reqs := make([]*http.Request, len(pages))
		for p, page := range pages {
			reqs[p] = httptest.NewRequest(http.MethodGet, "/visit?page="+page, nil)
		}
		wg.Go(func() { // ends when stop is set
			qw := &checkQuickWriter{h: http.Header{}}
			<-begin
			for i := 0; !stop.Load(); i++ {
				p := i % len(pages)
				qw.reset()
				svc.ServeHTTP(qw, reqs[p])
				v, err := strconv.Atoi(string(bytes.TrimSpace(qw.body)))
				if qw.code != http.StatusOK || err != nil {
					v = 0
				}
				got[w][p] = append(got[w][p], v)
			}
		})
	}
	done := make(chan struct{})
	go func() { // ends when every worker has returned
		wg.Wait()
		close(done)
	}()
	close(begin)
	time.Sleep(d)
	stop.Store(true)
	select {
	case <-done:
	case <-time.After(harness.Deadline):
		return nil, false
	}
	out := make([][]int, len(pages))
	for w := range workers {
		for p := range pages {
			out[p] = append(out[p], got[w][p]...)
		}
	}
	return out, true
}

// checkQuickWriter is a cheap http.ResponseWriter for the hammer: most of each
// call's time should go to the code under test.
type checkQuickWriter struct {
	h    http.Header
	code int
	body []byte
}

func (q *checkQuickWriter) Header() http.Header { return q.h }

func (q *checkQuickWriter) WriteHeader(code int) {
	if q.code == 0 {
		q.code = code
	}
}

func (q *checkQuickWriter) Write(b []byte) (int, error) {
	q.WriteHeader(http.StatusOK)
	q.body = append(q.body, b...)
	return len(b), nil
}

func (q *checkQuickWriter) reset() {
	q.code = 0
	q.body = q.body[:0]
	clear(q.h)
}

// TestConcurrent times a burst of visits: with goroutine-per-request and no
// lock held across the slow call, they take about one call.
func TestConcurrent(t *testing.T) {
	c := harness.Begin(t, "10 visits at once take about one downstream call, not ten")
	const n = 10
	var last []harness.Result
	var lastFake *checkFake
	c.AtMost(harness.Quantity{
		What:  fmt.Sprintf("%d visits at once, each with a %d ms downstream call: total time", n, checkSlow.Milliseconds()),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("correct code takes about %d ms, one call, because net/http runs every request in its own goroutine", checkSlow.Milliseconds()),
		Cause: "The visits took turns: something is held across the downstream call, like a mutex locked for the whole request or around the call, or a single goroutine that makes every call itself.",
	}, 3*harness.Ms(checkSlow), func() float64 {
		// The timeline shows the downstream calls, not the clients' waits:
		// taking turns reads as a staircase, overlapping calls as a block.
		t0 := time.Now()
		f := &checkFake{delay: checkSlow, rec: harness.NewRecorder(t0)}
		_, url := checkStart(t, f)
		rs := harness.Fire(t.Context(), t0, url, n, "visit")
		last, lastFake = rs, f
		c.Timeline(f.rec.Drawn())
		return harness.Ms(harness.Wall(rs))
	})
	if failed := harness.Failed(last); len(failed) > 0 {
		c.Fail(checkFailures(failed, n))
		return
	}
	if calls := lastFake.calls.Load(); calls != n {
		c.Fail(fmt.Sprintf("The downstream was called %d times for %d visits; every visit must be reported exactly once.", calls, n))
	}
	if fastest := harness.Latencies(last)[0]; fastest < checkSlow*9/10 {
		c.Fail(fmt.Sprintf("A visit was answered after %.0f ms, before its %d ms downstream call could have finished: wait for the call (and report its error) before answering.", harness.Ms(fastest), checkSlow.Milliseconds()))
	}
}

// TestDownstreamOverlap counts, at the downstream, how many calls run at
// once. More visits than FastAPI's 40 pool tokens show that net/http has no
// such ceiling.
func TestDownstreamOverlap(t *testing.T) {
	const n = 50
	c := harness.Begin(t, fmt.Sprintf("%d visits at once: the downstream sees their calls together, with no 40-slot ceiling", n))
	limit := 10 * checkSlow
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	t0 := time.Now()
	f := &checkFake{delay: checkSlow, rec: harness.NewRecorder(t0)}
	_, url := checkStart(t, f)
	rs := harness.Fire(ctx, t0, url, n, "visit")
	c.Timeline(f.rec.Drawn())
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d visits at once, each with a %d ms downstream call: most calls in flight together at the downstream", n, checkSlow.Milliseconds()),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("correct code starts all %d calls within a few milliseconds, so nearly all overlap", n),
		Cause: "Only one call ran at a time: a mutex is held around the downstream call, or one goroutine makes every call itself.",
	}, "min", n/2, float64(f.inFlight.Peak()))
	if failed := harness.Failed(rs); len(failed) > 0 {
		c.Note(fmt.Sprintf("%d of %d visits were not answered within %d ms, when the check stopped waiting.", len(failed), n, limit.Milliseconds()))
	}
}

// checkLearnerGoroutines counts the goroutines, other than the caller, that
// belong to the learner's code: started by a function of the learner's
// package, or running one, in a file that is not a test file. Goroutines of
// net/http or of the checks do not count, and neither do timers.
func checkLearnerGoroutines() int {
	pkg := strings.TrimSuffix(runtime.FuncForPC(reflect.ValueOf(New).Pointer()).Name(), ".New")
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, false)
	self, _, _ := strings.Cut(string(buf[:n]), "\n") // "goroutine 18 [running]:"
	for {
		n = runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(g), "\n")
		if len(lines) == 0 || lines[0] == self {
			continue
		}
		for i := 1; i+1 < len(lines); i++ {
			fn := strings.TrimPrefix(lines[i], "created by ")
			file, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), ":")
			if strings.HasPrefix(fn, pkg+".") && !strings.HasSuffix(file, "_test.go") {
				count++
				break
			}
		}
	}
	return count
}

// TestStops checks the promise New's doc comment makes: any goroutine the
// service starts ends when New's ctx is done.
func TestStops(t *testing.T) {
	c := harness.Begin(t, "when New's context is done, every goroutine the service started ends")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	svc := New(ctx, (&checkFake{}).call)
	// A few visits straight into ServeHTTP, so that goroutines started on
	// the first visit exist too.
	for i := range 3 {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/visit?page=home", nil))
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != strconv.Itoa(i+1) {
			c.Fatal(fmt.Sprintf("Visit %d to a new service answered %d %q; it should answer 200 %q.", i+1, rec.Code, strings.TrimSpace(rec.Body.String()), strconv.Itoa(i+1)))
		}
	}
	running := checkLearnerGoroutines()
	cancel()
	// Services of earlier checks got contexts that are done by now too, so
	// their goroutines must have ended as well (or end within the second).
	left := running
	harness.WaitUntil(time.Second, func() bool { left = checkLearnerGoroutines(); return left == 0 })
	c.Value(harness.Quantity{
		What:  "Goroutines of your code still running 1 s after the contexts given to New were done",
		Unit:  harness.Count,
		Want:  "every goroutine the service starts ends when New's ctx is done, so none is left",
		Cause: "A goroutine of the service (a hub, a worker) does not watch ctx: add a case <-ctx.Done(): return to its select, so that it ends with the context it was given.",
	}, "max", 0, float64(left))
	c.Note(fmt.Sprintf("While the service ran, %d goroutines of your code were running (correct code: none, or one hub).", running))
}
