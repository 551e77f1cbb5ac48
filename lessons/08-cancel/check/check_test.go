//go:build tutorcheck

package report

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The contract the checks hold New to.
const (
	checkUnit     = 50 * time.Millisecond   // one unit of CPU work, alone on one core
	checkDaysUnit = 20                      // Day calls per unit: one Day call is 2.5 ms of CPU
	checkBudget   = 150 * time.Millisecond  // the budget where the checks let it run out: 3 units
	checkRoomy    = 10 * time.Second        // the budget where the checks want the whole report
	checkLong     = 400                     // days of a report too long for checkBudget: 20 units of CPU
	checkLonger   = 800                     // days of a report that outlasts a client waiting checkBudget+checkLate
	checkLeaveAt  = checkDaysUnit           // the client leaves once this many days are done
	checkSlowConv = 1500 * time.Millisecond // Convert's delay where the budget must run out during it
	checkQuick    = 10 * time.Millisecond   // Convert's delay otherwise
	checkLate     = 1500 * time.Millisecond // a client gives up this long after the budget ran out
	checkWatch    = 3 * time.Second         // the longest the checks watch work that should have stopped
	checkSettle   = 500 * time.Millisecond  // how long goroutines get to end after the answer
	checkGiveUp   = 5 * time.Second         // a request that should complete gives up after this
)

// checkStopBound is how many Day calls may start after a request's
// context ended: half a unit of work, or two per core where many cores
// could each have one call in flight. Code that looks before every call
// starts at most one per goroutine; code that does not look keeps going,
// and the checks watch it until it has started five times the bound (on a
// starved machine, at load average 43, 44 calls in 2 s).
func checkStopBound() int { return max(checkDaysUnit/2, 2*runtime.GOMAXPROCS(0)) }

// checkReqKey marks the contexts of the requests the rig serves, so
// Convert can tell a context derived from the request's from a fresh one.
type checkReqKey struct{}

// checkReq is what the checks know about one request to /report.
type checkReq struct {
	account string
	days    int
	budget  time.Duration
	served  chan struct{} // closed when the handler has returned

	mu       sync.Mutex
	arrived  time.Time       // when the request reached the server
	ctx      context.Context // the request's context, as the server made it
	doneAt   time.Time       // when the first Day call saw ctx ended (zero: none did)
	firstDay time.Time
	lastDay  time.Time
	seen     []bool // days called at least once

	calls       atomic.Int64 // Day calls
	afterDone   atomic.Int64 // Day calls that started after the request's context ended
	afterBudget atomic.Int64 // Day calls that started after budgetOver was set
	// budgetOver is set when the request's budget has run out, counted from
	// its arrival by a timer of the check's own (time.AfterFunc, which is
	// also what ends a context.WithTimeout). On a busy machine the runtime
	// fires both timers late alike, so a loop that stops when its context
	// ends is not counted late because the timers fired a few milliseconds
	// after the deadline.
	budgetOver atomic.Bool
}

// checkConvertCall is what Convert saw in one call.
type checkConvertCall struct {
	req         *checkReq // the request whose context Convert's derives from; nil if none
	cents       int64
	at          time.Time
	hasDeadline bool
	deadline    time.Time
	ended       time.Time
	err         error
}

// checkBackend is the Services the checks pass to New. Day burns a
// calibrated slice of CPU and counts each call against its request;
// Convert waits and records the context it was given.
type checkBackend struct {
	cpu   harness.CPUUnit
	delay time.Duration // how long Convert takes when its context allows
	quit  chan struct{} // closed once the check has its numbers: Day and Convert then return at once
	once  sync.Once
	rec   *harness.Recorder
	t0    time.Time

	mu       sync.Mutex
	reqs     map[string]*checkReq
	converts []checkConvertCall
	unknown  atomic.Int64 // Day calls for accounts the checks never asked about
}

// checkDay is account's balance on day, in cents: fixed pseudo-random
// numbers, so the checks know every right total in advance.
func checkDay(account string, day int) int64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", account, day)
	return int64(h.Sum32()%200000) - 50000
}

// checkMoney is what Convert answers for a total.
func checkMoney(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d EUR", sign, cents/100, cents%100)
}

// checkWant is the right answer for account over days.
func checkWant(account string, days int) string {
	var total int64
	for d := range days {
		total += checkDay(account, d)
	}
	return checkMoney(total)
}

func (b *checkBackend) services() Services {
	return Services{
		Day: func(account string, day int) int64 {
			b.mu.Lock()
			q := b.reqs[account]
			b.mu.Unlock()
			if q == nil {
				b.unknown.Add(1)
			} else {
				q.calls.Add(1)
				q.mu.Lock()
				now := time.Now()
				if q.firstDay.IsZero() {
					q.firstDay = now
				}
				if day >= 0 && day < len(q.seen) {
					q.seen[day] = true
				}
				if q.ctx != nil && q.ctx.Err() != nil {
					q.afterDone.Add(1)
					if q.doneAt.IsZero() {
						q.doneAt = now
					}
				}
				if q.budgetOver.Load() {
					q.afterBudget.Add(1)
				}
				q.mu.Unlock()
			}
			select {
			case <-b.quit:
			default:
				harness.Spin(b.cpu.Iterations / checkDaysUnit)
			}
			if q != nil {
				q.mu.Lock()
				q.lastDay = time.Now()
				q.mu.Unlock()
			}
			return checkDay(account, day)
		},
		Convert: func(ctx context.Context, cents int64) (string, error) {
			call := checkConvertCall{cents: cents, at: time.Now()}
			call.req, _ = ctx.Value(checkReqKey{}).(*checkReq)
			call.deadline, call.hasDeadline = ctx.Deadline()
			end := b.rec.Start(fmt.Sprintf("Convert(%d)", cents))
			timer := time.NewTimer(b.delay)
			defer timer.Stop()
			var text string
			select {
			case <-timer.C:
				text = checkMoney(cents)
				end("ok")
			case <-b.quit:
				text = checkMoney(cents)
				end("late")
			case <-ctx.Done():
				call.err = fmt.Errorf("currency service: %w", ctx.Err())
				end("error")
			}
			call.ended = time.Now()
			b.mu.Lock()
			b.converts = append(b.converts, call)
			b.mu.Unlock()
			return text, call.err
		},
	}
}

// stop tells the backend that the check has its numbers.
func (b *checkBackend) stop() { b.once.Do(func() { close(b.quit) }) }

// expect registers a request the check is about to send.
func (b *checkBackend) expect(account string, days int, budget time.Duration) *checkReq {
	q := &checkReq{account: account, days: days, budget: budget, served: make(chan struct{}), seen: make([]bool, days)}
	b.mu.Lock()
	b.reqs[account] = q
	b.mu.Unlock()
	return q
}

// convertCalls returns a copy of Convert's calls so far.
func (b *checkBackend) convertCalls() []checkConvertCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.converts)
}

// checkRig serves New's handler, built with a fresh backend, on loopback.
type checkRig struct {
	b      *checkBackend
	url    string
	budget time.Duration
}

// checkServer starts a rig whose handler has the given budget and whose
// Convert takes delay. It lives until the test ends.
func checkServer(t *testing.T, cpu harness.CPUUnit, budget, delay time.Duration) *checkRig {
	t0 := time.Now()
	b := &checkBackend{cpu: cpu, delay: delay, quit: make(chan struct{}), rec: harness.NewRecorder(t0), t0: t0, reqs: map[string]*checkReq{}}
	h := New(b.services(), budget)
	t.Cleanup(b.stop) // runs before the server closes (cleanups run last-in, first-out)
	url := harness.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		q := b.reqs[r.URL.Query().Get("account")]
		b.mu.Unlock()
		if q == nil {
			h.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), checkReqKey{}, q)
		q.mu.Lock()
		q.arrived, q.ctx = time.Now(), ctx
		q.mu.Unlock()
		time.AfterFunc(q.budget, func() { q.budgetOver.Store(true) })
		defer close(q.served)
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	return &checkRig{b: b, url: url, budget: budget}
}

// get sends GET /report for q and waits for the answer or until giveUp.
func (r *checkRig) get(ctx context.Context, q *checkReq, giveUp time.Duration) harness.Result {
	ctx, cancel := context.WithTimeout(ctx, giveUp)
	defer cancel()
	return harness.Get(ctx, r.b.t0, fmt.Sprintf("%s/report?account=%s&days=%d", r.url, q.account, q.days), fmt.Sprintf("GET /report %s, %d days", q.account, q.days))
}

// spans draws the requests' answers, each report's Day calls as one bar
// (late when some started after the request had ended) and Convert's calls.
func (r *checkRig) spans(rs []harness.Result, qs ...*checkReq) []harness.Span {
	out := harness.Spans(rs)
	for _, q := range qs {
		q.mu.Lock()
		if !q.firstDay.IsZero() {
			outcome := "ok"
			if q.afterDone.Load() > 0 || q.afterBudget.Load() > 0 {
				outcome = "late"
			}
			end := q.lastDay
			if end.Before(q.firstDay) {
				end = q.firstDay
			}
			out = append(out, harness.Span{
				Label:   fmt.Sprintf("Day calls for %s: %d", q.account, q.calls.Load()),
				Start:   q.firstDay.Sub(r.b.t0),
				End:     end.Sub(r.b.t0),
				Outcome: outcome,
			})
		}
		q.mu.Unlock()
	}
	return append(out, r.b.rec.Spans()...)
}

// checkPkg is the import path of the package under test.
var checkPkg = reflect.TypeFor[checkReq]().PkgPath()

// checkIsLearnerFunc reports whether fn is a function of the learner's
// code: in the package under test, and not one of the checks' own.
func checkIsLearnerFunc(fn string) bool {
	name, ok := strings.CutPrefix(fn, checkPkg+".")
	if !ok {
		return false
	}
	name = strings.TrimLeft(name, "(*")
	return !strings.HasPrefix(name, "check") && !strings.HasPrefix(name, "Test")
}

// checkLearnerGoroutines returns the goroutines running the learner's code
// (or started by it), leaving out those whose IDs are in old.
func checkLearnerGoroutines(old map[int]bool) []harness.Goroutine {
	var out []harness.Goroutine
	for _, g := range harness.LiveGoroutines() {
		if !old[g.ID] && g.Has(checkIsLearnerFunc) {
			out = append(out, g)
		}
	}
	return out
}

// checkDescribe names goroutines for a message: "New.func1.1 (chan send)".
func checkDescribe(gs []harness.Goroutine) string {
	var parts []string
	for _, g := range gs {
		where := g.CreatedBy
		for _, f := range g.Funcs {
			if checkIsLearnerFunc(f) {
				where = f
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimPrefix(where, checkPkg+"."), g.State))
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("and %d more", len(parts)-3))
	}
	return strings.Join(parts, ", ")
}

// checkWatchStop waits until q's handler has returned and no goroutine of the
// learner's code is left, or until after (the count of Day calls started
// too late) reaches stopAt, or until checkWatch has passed. It reports how
// long it watched.
func checkWatchStop(q *checkReq, after *atomic.Int64, stopAt int, old map[int]bool) time.Duration {
	start := time.Now()
	harness.WaitUntil(checkWatch, func() bool {
		if after.Load() >= int64(stopAt) {
			return true
		}
		select {
		case <-q.served:
			return len(checkLearnerGoroutines(old)) == 0
		default:
			return false
		}
	})
	return time.Since(start)
}

// checkOldGoroutines returns the IDs of goroutines of the learner's code
// that already run (left over from an earlier check), so a check counts
// only its own.
func checkOldGoroutines() map[int]bool {
	old := map[int]bool{}
	for _, g := range checkLearnerGoroutines(nil) {
		old[g.ID] = true
	}
	return old
}

func TestAnswers(t *testing.T) {
	c := harness.Begin(t, "Every report that is not cancelled is computed in full and answered right")
	cpu := harness.CalibrateCPU(checkUnit)
	const days = checkDaysUnit
	accounts := []string{"ann", "bob", "cyd"}
	rig := checkServer(t, cpu, checkRoomy, checkQuick)
	var rs []harness.Result
	var order []*checkReq // the request behind each result
	// Two rounds with the same accounts: a report computed once and served
	// again from memory does only half the work.
	for range 2 {
		var wg sync.WaitGroup
		got := make([]harness.Result, len(accounts))
		for i, a := range accounts {
			q := rig.b.expect(a, days, checkRoomy)
			wg.Go(func() { got[i] = rig.get(t.Context(), q, checkGiveUp) }) // ends when answered (checkGiveUp at most)
			order = append(order, q)
		}
		wg.Wait()
		rs = append(rs, got...)
	}
	rig.b.stop()
	c.Timeline(rig.spans(rs, order...))
	right := 0
	reported := false
	for i, r := range rs {
		q := order[i]
		want := checkWant(q.account, days)
		if r.Err == nil && r.Status == http.StatusOK && strings.TrimSpace(r.Body) == want {
			right++
			continue
		}
		if reported {
			continue
		}
		reported = true
		if r.Err != nil {
			c.Fail(fmt.Sprintf("GET /report?account=%s&days=%d got no answer within %v: %v. The report is %d days, one unit of CPU work (about %v on one core), and the budget is %v.",
				q.account, days, checkGiveUp, r.Err, days, checkUnit, checkRoomy))
		} else {
			c.Fail(fmt.Sprintf("GET /report?account=%s&days=%d answered %d %q after %.0f ms; it should answer 200 %q (the sum of all %d days, converted), as the starter does. The budget was %v, so nothing had run out.",
				q.account, days, r.Status, strings.TrimSpace(r.Body), harness.Ms(r.End-r.Start), want, days, checkRoomy))
		}
	}
	calls := 0
	for _, q := range order {
		calls += int(q.calls.Load())
	}
	n := len(rs)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("requests answered 200 with the right total (%d requests of %d days, budget %v)", n, days, checkRoomy),
		Unit:  harness.Count,
		Want:  "every report whose client waits and whose budget lasts gets its answer: the converted sum of all its days",
		Cause: "See the first message.",
	}, "min", float64(n), float64(right))
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Day calls made for %d requests of %d days (3 accounts, each asked twice)", n, days),
		Unit: harness.Count,
		Want: fmt.Sprintf("every request computes its own report, one Day call per day: %d in all", n*days),
		Cause: "The handler skips work: it returns before the loop (ctx.Done() is never nil for a request, so `if ctx.Done() != nil` is always true; " +
			"use ctx.Err() != nil or a select with a default), stops the loop too early, or keeps reports from earlier requests.",
	}, "min", float64(n*days), float64(calls))
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Convert calls for %d requests", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("every request asks the currency service once: %d calls", n),
		Cause: "The handler answers without asking Convert, or keeps answers from earlier requests.",
	}, "min", float64(n), float64(len(rig.b.convertCalls())))
}

func TestStopsWhenClientLeaves(t *testing.T) {
	c := harness.Begin(t, "When the client leaves, the computing stops before the next Day call")
	cpu := harness.CalibrateCPU(checkUnit)
	bound := checkStopBound()
	old := checkOldGoroutines()
	rig := checkServer(t, cpu, checkRoomy, checkQuick)
	q := rig.b.expect("ann", checkLong, checkRoomy)
	ctx, leave := context.WithCancel(t.Context())
	defer leave()
	var left atomic.Int64 // Day calls done when the client left

	go func() { // ends when the client leaves or its request has ended (checkGiveUp at most)
		harness.WaitUntil(checkGiveUp, func() bool { return ctx.Err() != nil || q.calls.Load() >= checkLeaveAt })
		left.Store(q.calls.Load())
		leave()
	}()
	r := rig.get(ctx, q, checkGiveUp)
	if left.Load() < checkLeaveAt {
		c.Fatal(fmt.Sprintf("The client waited for the report of %d days until it got %s after %.0f ms, and only %d Day calls had started by then; the check leaves after %d. The handler must compute the report.",
			checkLong, checkOutcome(r), harness.Ms(r.End-r.Start), q.calls.Load(), checkLeaveAt))
	}
	watched := checkWatchStop(q, &q.afterDone, 5*bound, old)
	after := q.afterDone.Load()
	stillServing := "had returned"
	select {
	case <-q.served:
	default:
		stillServing = "was still running"
	}
	leftover := checkLearnerGoroutines(old)
	rig.b.stop()
	c.Timeline(rig.spans([]harness.Result{r}, q))
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Day calls started after the client left (the report is %d days; the client left after %d)", checkLong, left.Load()),
		Unit: harness.Count,
		Want: fmt.Sprintf("when the request's context ends, the loop stops before its next Day call: a call already running may finish, so at most %d (half a unit of work)", bound),
		Cause: "The loop never looks at the request's context, or looks only before it starts. Check ctx.Err() (or select on ctx.Done()) before every Day call, " +
			"with ctx derived from r.Context(): a context made from context.Background(), or http.TimeoutHandler's alone, does not end when the client leaves.",
	}, "max", float64(bound), float64(after))
	c.Note(fmt.Sprintf("Watched for %.0f ms after the client left: %d Day calls in all, the handler %s, %d goroutines of your code still running. One unit of CPU work is %d spin iterations here, calibrated to %v on one idle core (GOMAXPROCS %d).",
		harness.Ms(watched), q.calls.Load(), stillServing, len(leftover), cpu.Iterations, checkUnit, runtime.GOMAXPROCS(0)))
}

// checkOutcome describes a result in a few words: "200 \"12.00 EUR\"", "no answer (…)".
func checkOutcome(r harness.Result) string {
	if r.Err != nil {
		if errors.Is(r.Err, context.Canceled) {
			return "no answer (the client left)"
		}
		return fmt.Sprintf("no answer (%v)", r.Err)
	}
	body := strings.TrimSpace(r.Body)
	if len(body) > 60 {
		body = body[:60] + "…"
	}
	return fmt.Sprintf("%d %q", r.Status, body)
}

func TestStopsAtDeadline(t *testing.T) {
	c := harness.Begin(t, "When the budget runs out, the computing stops before the next Day call")
	cpu := harness.CalibrateCPU(checkUnit)
	bound := checkStopBound()
	old := checkOldGoroutines()
	rig := checkServer(t, cpu, checkBudget, checkQuick)
	q := rig.b.expect("ann", checkLong, checkBudget)
	// The client waits while the check watches, so that code without the
	// budget is not stopped by the client leaving instead.
	answer := make(chan harness.Result, 1)
	go func() { answer <- rig.get(t.Context(), q, checkGiveUp) }() // ends when answered, or once the backend stops (checkGiveUp at most)
	watched := checkWatchStop(q, &q.afterBudget, 5*bound, old)
	after := q.afterBudget.Load()
	calls := q.calls.Load()
	rig.b.stop()
	r := <-answer
	c.Timeline(rig.spans([]harness.Result{r}, q))
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Day calls started after the budget of %v ran out (the report is %d days, %d units of CPU work)", checkBudget, checkLong, checkLong/checkDaysUnit),
		Unit: harness.Count,
		Want: fmt.Sprintf("a context with the budget (context.WithTimeout(r.Context(), budget)) ends at the deadline, and the loop stops before its next Day call: at most %d (half a unit of work)", bound),
		Cause: "The loop does not look at a context that carries the budget, or looks only before it starts. " +
			"http.TimeoutHandler alone answers 503 at the deadline but leaves the handler computing: it cannot stop a goroutine, only the code that calls Day can.",
	}, "max", float64(bound), float64(after))
	c.Note(fmt.Sprintf("The client got %s after %.0f ms. Day was called %d times; the check watched for %.0f ms from the request's start. One unit of CPU work is %d spin iterations here (%v on one idle core, GOMAXPROCS %d).",
		checkOutcome(r), harness.Ms(r.End-r.Start), calls, harness.Ms(watched), cpu.Iterations, checkUnit, runtime.GOMAXPROCS(0)))
}

// checkOverBudget sends, at once, a report too long for the budget and a
// short one whose Convert call is too slow for it, and returns their
// results and requests.
func checkOverBudget(t *testing.T, rig *checkRig) ([]harness.Result, []*checkReq) {
	long := rig.b.expect(fmt.Sprintf("long%d", time.Now().UnixNano()), checkLonger, checkBudget)
	slow := rig.b.expect(fmt.Sprintf("slow%d", time.Now().UnixNano()), 4, checkBudget)
	qs := []*checkReq{long, slow}
	rs := make([]harness.Result, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { rs[i] = rig.get(t.Context(), q, checkBudget+checkLate) }) // ends when answered (checkBudget+checkLate at most)
	}
	wg.Wait()
	return rs, qs
}

func TestStatus(t *testing.T) {
	c := harness.Begin(t, "When the budget runs out, the answer is 503 Service Unavailable, soon after the deadline")
	cpu := harness.CalibrateCPU(checkUnit)
	var rs []harness.Result
	var qs []*checkReq
	var rig *checkRig
	var lates []string
	c.AtMost(harness.Quantity{
		What: fmt.Sprintf("time from the budget running out (%v) to the answer, the later of two requests (a %d-day report; a %d-day report whose Convert call takes %v)", checkBudget, checkLonger, 4, checkSlowConv),
		Unit: harness.Millis,
		Want: "code that stops at the deadline answers within a few ms of it",
		Cause: "The handler keeps computing, or keeps waiting for Convert, after the budget has run out: the loop does not look at the context that carries the budget, " +
			"or Convert gets a context without it (context.Background(), or a fresh full timeout).",
		// Correct code answers within a few ms of the deadline; at load
		// average 45–50 on 2 cores medians of 14–98 ms were seen, and once
		// 158 ms with the days split over both cores. Wrong code is late by
		// the rest of the Convert call (1.35 s) or of the report (1.85 s of
		// CPU; the client gives up after 1.5 s, counted as 1.5 s). A miss
		// below 1.2 s is measured again and judged on the median.
		Beyond: 3,
	}, harness.Ms(2*checkBudget), func() float64 {
		if rig != nil {
			rig.b.stop()
		}
		rig = checkServer(t, cpu, checkBudget, checkSlowConv)
		rs, qs = checkOverBudget(t, rig)
		var worst time.Duration
		lates = lates[:0]
		for _, r := range rs {
			late := r.End - r.Start - checkBudget
			if r.Err != nil {
				late = checkLate
			}
			worst = max(worst, late)
			lates = append(lates, fmt.Sprintf("%.0f ms", harness.Ms(late)))
		}
		return harness.Ms(max(worst, 0))
	})
	rig.b.stop()
	c.Timeline(rig.spans(rs, qs...))
	right := 0
	for i, r := range rs {
		took := r.End - r.Start
		// A 503 counts only at the deadline: one sent well before it gave
		// up on work that had time left.
		if r.Err == nil && r.Status == http.StatusServiceUnavailable && took >= checkBudget*9/10 {
			right++
			continue
		}
		where := "while it computed"
		if i == 1 {
			where = "during the Convert call"
		}
		if r.Err == nil && took < checkBudget*9/10 {
			c.Fail(fmt.Sprintf("The %d-day report got %s after %.0f ms, before its budget of %v had run out. It cannot be finished within that budget, but the handler must work on it until the deadline and then answer 503 Service Unavailable; "+
				"it answered without doing the work (the Answers check counts the Day calls).", qs[i].days, checkOutcome(r), harness.Ms(took), checkBudget))
			continue
		}
		c.Fail(fmt.Sprintf("The %d-day report whose budget of %v ran out %s got %s after %.0f ms; it should get 503 Service Unavailable at the deadline.",
			qs[i].days, checkBudget, where, checkOutcome(r), harness.Ms(r.End-r.Start)))
	}
	c.Value(harness.Quantity{
		What: "requests answered 503 when their budget ran out (one while it computed, one during the Convert call)",
		Unit: harness.Count,
		Want: "both get 503 Service Unavailable, at the deadline and not before",
		Cause: "When the context's deadline has passed, ctx.Err() (and the error Convert returns) is context.DeadlineExceeded: answer it with http.StatusServiceUnavailable, " +
			"not 500 or 502, and not 200 after the budget.",
	}, "min", 2, float64(right))
	c.Note(fmt.Sprintf("After the budget ran out, the long report was answered %s later and the one waiting for Convert %s later.", lates[0], lates[1]))
}

func TestDownstreamDeadline(t *testing.T) {
	c := harness.Begin(t, "Convert gets the request's context, with what is left of its budget")
	cpu := harness.CalibrateCPU(checkUnit)
	const days = 2 * checkDaysUnit
	budget := checkRoomy
	var (
		rig             *checkRig
		q               *checkReq
		r               harness.Result
		calls           []checkConvertCall
		requestDeadline time.Time
	)
	// run serves one report and returns what Convert saw.
	run := func() {
		if rig != nil {
			rig.b.stop()
		}
		rig = checkServer(t, cpu, budget, checkQuick)
		q = rig.b.expect("ann", days, budget)
		r = rig.get(t.Context(), q, checkGiveUp)
		rig.b.stop()
		calls = rig.b.convertCalls()
		q.mu.Lock()
		requestDeadline = q.arrived.Add(budget)
		q.mu.Unlock()
	}
	run()
	c.Timeline(rig.spans([]harness.Result{r}, q))
	if len(calls) == 0 {
		c.Fatal(fmt.Sprintf("Convert was never called for a %d-day report with a budget of %v (the client got %s after %.0f ms, with %d Day calls). The handler must ask Convert for the answer.",
			days, budget, checkOutcome(r), harness.Ms(r.End-r.Start), q.calls.Load()))
	}
	call := calls[0]
	notDerived := 0
	if call.req == nil {
		notDerived = 1
	}
	if !c.Value(harness.Quantity{
		What: "Convert calls whose context does not come from the request's",
		Unit: harness.Count,
		Want: "Convert gets the context the handler derived from r.Context(), so it ends when the client leaves and carries the budget: 0 without it",
		Cause: "Convert got a context made from context.Background() (or context.TODO()): it knows nothing of the request, so a slow currency service keeps the handler waiting " +
			"after the client has gone and after the budget has run out.",
	}, "max", 0, float64(notDerived)) {
		return
	}
	noDeadline := 0
	if !call.hasDeadline {
		noDeadline = 1
	}
	if !c.Value(harness.Quantity{
		What: "Convert calls whose context has no deadline",
		Unit: harness.Count,
		Want: fmt.Sprintf("the context Convert gets carries the request's deadline: arrival + the budget of %v", budget),
		Cause: "Convert got a context without the budget: r.Context() itself, which ends when the client leaves but has no deadline, or context.WithoutCancel, which drops both. " +
			"Make one context with context.WithTimeout(r.Context(), budget) at the start of the handler and pass that same one to the loop and to Convert.",
	}, "max", 0, float64(noDeadline)) {
		return
	}
	first := true
	c.AtMost(harness.Quantity{
		What: fmt.Sprintf("how much later Convert's deadline is than the request's (arrival + %v), for a %d-day report (%d units of CPU work before the call)", budget, days, days/checkDaysUnit),
		Unit: harness.Millis,
		Want: "Convert gets what is left of the request's budget: its deadline is the request's own, a fraction of a millisecond after arrival + budget",
		Cause: "Convert got a fresh full timeout (context.WithTimeout(..., budget) made just before the call), so its deadline moved later by the time the computing took. " +
			"Pass the context that already carries the request's deadline.",
		// Correct code measures well under 1 ms; a fresh timeout is late by
		// the computing, 100 ms or more (two units; more on a busy machine).
		// A stall of a starved test process between arrival and the
		// handler's first line is measured again.
		Beyond: 3,
	}, 30, func() float64 {
		if !first {
			run()
			if len(calls) == 0 || !calls[0].hasDeadline {
				return harness.Ms(checkGiveUp) // cannot happen for code that passed above
			}
			call = calls[0]
		}
		first = false
		return harness.Ms(max(call.deadline.Sub(requestDeadline), 0))
	})
	c.Note(fmt.Sprintf("Convert was called %.0f ms after the request arrived, with %.0f ms left until its context's deadline; the request's own budget had %.0f ms left.",
		harness.Ms(call.at.Sub(requestDeadline.Add(-budget))), harness.Ms(call.deadline.Sub(call.at)), harness.Ms(requestDeadline.Sub(call.at))))
}

func TestNothingLeft(t *testing.T) {
	c := harness.Begin(t, "No goroutine of your code is left running after the answer")
	cpu := harness.CalibrateCPU(checkUnit)
	old := checkOldGoroutines()
	rig := checkServer(t, cpu, checkBudget, checkSlowConv)
	rs, qs := checkOverBudget(t, rig)
	answered := time.Now()
	var left []harness.Goroutine
	harness.WaitUntil(checkSettle, func() bool {
		left = checkLearnerGoroutines(old)
		return len(left) == 0
	})
	waited := time.Since(answered)
	rig.b.stop()
	c.Timeline(rig.spans(rs, qs...))
	if !c.Value(harness.Quantity{
		What: fmt.Sprintf("goroutines running your code %.0f ms after the answers (two requests whose budget of %v ran out: a %d-day report while computing, a 4-day one during Convert)", harness.Ms(waited), checkBudget, checkLonger),
		Unit: harness.Count,
		Want: fmt.Sprintf("every goroutine the handler starts ends soon after the request's context does: 0 left after %v", checkSettle),
		Cause: "A goroutine outlives its request: it computes without looking at the context, or it is blocked for ever sending its result on an unbuffered channel that nobody reads " +
			"once the handler has answered (give the channel a buffer of 1), or http.TimeoutHandler answered while the handler it wraps carried on.",
	}, "max", 0, float64(len(left))) {
		c.Note("Still running: " + checkDescribe(left) + ".")
	}
	var answers []string
	for _, r := range rs {
		answers = append(answers, fmt.Sprintf("%s after %.0f ms", checkOutcome(r), harness.Ms(r.End-r.Start)))
	}
	c.Note("The answers: " + strings.Join(answers, "; ") + ".")
}
