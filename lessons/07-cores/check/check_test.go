//go:build tutorcheck

package quote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
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
	checkUnit      = 50 * time.Millisecond // CPU time of one Price call, alone on one core
	checkBudget    = 4                     // every request's deadline, in units after it arrives
	checkPerCore   = 10                    // a burst sends this many /quote requests per core
	checkIOPerCore = 4                     // I/O slots per core
	checkSlow      = 3.25                  // in OnTime, the first calls take this many costs
	checkGiveUp    = 2 * time.Second       // a burst stops waiting for answers after this

	// RejectFast and OnTime count answers, not milliseconds, with a
	// longer Cost (checkLongCost, so the deadline is 1 s away) so that the
	// stalls of a busy machine, tens of ms, stay far from every deadline.
	// In RejectFast the first Price calls take checkRejectFirst costs: a
	// request turned away on arrival has heard 503 before any of them
	// returns; one turned away when a slot came free, or when its
	// deadline passed, has not.
	checkLongCost    = 250 * time.Millisecond
	checkRejectFirst = 2
	// RejectFast's second burst gives every request a deadline of only
	// checkShortBudget costs, and its first Price calls wait half a cost:
	// a request behind them can no longer be priced in time. Code that
	// admits by a fixed queue length (sized for the 4-cost deadline)
	// admits it anyway; code that compares with the deadline does not.
	checkShortBudget = 1.5
	// In IOFree the burst's Price calls wait until every /docs request
	// has reached the store, or for checkHold: code whose CPU work holds
	// I/O slots keeps /docs out until then.
	checkHold = time.Second
)

// checkSetup is how one rig's backend behaves.
type checkSetup struct {
	cost        time.Duration // Config.Cost, and one CPU unit's length
	budget      float64       // every request's deadline, in costs after it arrives (0: checkBudget)
	slow        int           // the first slow Price calls wait slowFor instead of computing
	slowFor     time.Duration
	holdForDocs bool // Price waits until every I/O slot's /docs request is in the store, or checkHold
}

// checkDefault is the setup of Bounded and DoesWork: every Price call
// burns one calibrated unit.
func checkDefault() checkSetup { return checkSetup{cost: checkUnit} }

// checkPrice is the pricing model's answer: a fixed pseudo-random price
// per policy, so the checks know every right answer in advance.
func checkPrice(id string) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "price/%s", id)
	v := h.Sum32() % 100000
	return fmt.Sprintf("%d.%02d", 100+v/100, v%100)
}

// checkBackend is the Services the checks pass to New. Price burns a
// calibrated unit of CPU and counts how many calls run at once.
type checkBackend struct {
	cpu   harness.CPUUnit
	setup checkSetup

	quit chan struct{} // closed once the check has stopped listening: Price then returns at once
	once sync.Once

	rec     *harness.Recorder // one span per Price and Docs call, for the timeline
	start   time.Time         // rec's time zero
	pricing harness.Gauge     // Price calls in progress
	calls   atomic.Int64      // Price calls begun
	// firstDone is when the first Price call returned (UnixNano), 0
	// until then.
	firstDone atomic.Int64

	mu     sync.Mutex
	priced map[string]int         // Price calls per policy id
	doneAt map[string][]time.Time // when each policy's Price calls returned, in order

	ioSlots  int           // the I/O slots New was given
	docs     harness.Gauge // Docs calls in progress
	docsFull chan struct{} // closed once ioSlots Docs calls were in progress at once
	fullOnce sync.Once
	// docsEarly is the most Docs calls in progress at once while no
	// Price call had returned yet.
	docsEarly atomic.Int64
}

// returned reports whether a Price call had returned by the time t.
func (b *checkBackend) returned(t time.Time) bool {
	d := b.firstDone.Load()
	return d != 0 && d <= t.UnixNano()
}

func (b *checkBackend) services() Services {
	return Services{
		Price: func(id string) string {
			n := b.calls.Add(1)
			b.mu.Lock()
			b.priced[id]++
			b.mu.Unlock()
			defer func() {
				now := time.Now()
				b.firstDone.CompareAndSwap(0, now.UnixNano())
				b.mu.Lock()
				b.doneAt[id] = append(b.doneAt[id], now)
				b.mu.Unlock()
			}()
			defer b.pricing.Enter()()
			end := b.rec.Start("Price(" + id + ")")
			if b.setup.holdForDocs {
				select {
				case <-b.quit:
				case <-b.docsFull:
				case <-time.After(checkHold):
				}
			}
			switch {
			case int(n) <= b.setup.slow:
				// A policy that takes longer than Cost says. The extra
				// time is a wait, not CPU, so it is the same on a quiet
				// and a busy machine: the check can count on when the
				// queue behind it gets its turn.
				select {
				case <-b.quit:
					end("late")
				case <-time.After(b.setup.slowFor):
					end("ok")
				}
			default:
				// One unit in ten slices, so that a check that has
				// stopped listening is not kept waiting for a whole unit.
				outcome := "ok"
				for range 10 {
					select {
					case <-b.quit:
						outcome = "late"
					default:
						harness.Spin(b.cpu.Iterations / 10)
						continue
					}
					break
				}
				end(outcome)
			}
			return checkPrice(id)
		},
		// The store answers once it holds one request per I/O slot (or
		// at the request's deadline, checkHold after it arrives): it
		// lets the check count how many /docs requests can be in it at
		// once.
		Docs: func(ctx context.Context, id string) (string, error) {
			defer b.docs.Enter()()
			if now := int64(b.docs.Now()); !b.returned(time.Now()) {
				for {
					old := b.docsEarly.Load()
					if now <= old || b.docsEarly.CompareAndSwap(old, now) {
						break
					}
				}
			}
			if b.docs.Now() >= b.ioSlots {
				b.fullOnce.Do(func() { close(b.docsFull) })
			}
			end := b.rec.Start("Docs(" + id + ")")
			select {
			case <-ctx.Done():
				end("error")
				return "", ctx.Err()
			case <-b.quit:
				end("error")
				return "", errors.New("the check has stopped listening")
			case <-b.docsFull:
			}
			end("ok")
			return "ready", nil
		},
	}
}

// stop tells the backend that the check has stopped listening.
func (b *checkBackend) stop() { b.once.Do(func() { close(b.quit) }) }

// checkServed is what the server side saw of one request: when it
// arrived, its deadline, when the handler returned, and its answer.
type checkServed struct {
	path, id         string
	arrived, end     time.Time
	deadline         time.Time
	status           int
	body             string
	finished, priced bool
}

// inServer is how long the request spent inside New's handler.
func (s checkServed) inServer() time.Duration { return s.end.Sub(s.arrived) }

// late reports whether the handler answered after the deadline.
func (s checkServed) late() bool { return s.end.After(s.deadline) }

// checkWriter records the status and body a handler writes.
type checkWriter struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (w *checkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *checkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 4<<10 {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// checkRig is a fresh service from New with a new backend, behind a
// wrapper that gives every request its deadline and records what the
// server saw.
type checkRig struct {
	b      *checkBackend
	url    string
	procs  int
	budget time.Duration

	mu       sync.Mutex
	served   []*checkServed
	gateWant int           // /quote requests in the current burst
	gateIn   int           // of those, how many have reached the server
	gateOpen chan struct{} // closed once all have: they enter the handler together
}

// checkServer starts a checkRig that lives until the test ends; its
// backend behaves as setup says.
func checkServer(t *testing.T, cpu harness.CPUUnit, setup checkSetup) *checkRig {
	start := time.Now()
	procs := runtime.GOMAXPROCS(0)
	b := &checkBackend{cpu: cpu, setup: setup, quit: make(chan struct{}), rec: harness.NewRecorder(start), start: start, priced: map[string]int{}, doneAt: map[string][]time.Time{},
		ioSlots: checkIOPerCore * procs, docsFull: make(chan struct{})}
	r := &checkRig{b: b, procs: procs, budget: time.Duration(cmp.Or(setup.budget, checkBudget) * float64(setup.cost))}
	h := New(t.Context(), Config{Cost: setup.cost, IOSlots: b.ioSlots}, b.services())
	t.Cleanup(b.stop) // runs before the server closes (cleanups run last-in, first-out)
	r.url = harness.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/quote" {
			// The requests of a burst are let in together, as if they had
			// arrived at the same instant: the client goroutines of a
			// busy machine would otherwise trickle in over tens of ms and
			// blur every deadline.
			r.mu.Lock()
			open := r.gateOpen
			r.gateIn++
			if open != nil && r.gateIn == r.gateWant {
				close(open)
			}
			r.mu.Unlock()
			if open != nil {
				select {
				case <-open:
				case <-time.After(time.Second):
				}
			}
		}
		s := &checkServed{path: req.URL.Path, id: req.URL.Query().Get("id"), arrived: time.Now()}
		s.deadline = s.arrived.Add(r.budget)
		if s.path == "/docs" {
			s.deadline = s.arrived.Add(checkHold) // /docs is not what is being rushed
		}
		r.mu.Lock()
		r.served = append(r.served, s)
		r.mu.Unlock()
		ctx, cancel := context.WithDeadline(req.Context(), s.deadline)
		defer cancel()
		cw := &checkWriter{ResponseWriter: w}
		h.ServeHTTP(cw, req.WithContext(ctx))
		end := time.Now()
		r.mu.Lock()
		s.end, s.status, s.body, s.finished = end, cmp.Or(cw.status, http.StatusOK), cw.body.String(), true
		r.mu.Unlock()
	}))
	return r
}

// checkID names the i-th policy of a burst.
func checkID(prefix string, i int) string { return fmt.Sprintf("%s%d", prefix, i+1) }

// burst sends one request to /quote per id, all at the same moment, and
// returns their results once all have answered or the check gave up after
// checkGiveUp; then the backend stops burning CPU, so a server that is
// still busy drains quickly. With docs > 0, once every /quote request has
// entered the handler (or after 1.5 s), docs requests to /docs are sent at
// once, and their results are returned too.
func (r *checkRig) burst(t *testing.T, t0 time.Time, ids []string, docs int) (quotes, docsRs []harness.Result) {
	ctx, cancel := context.WithTimeout(t.Context(), checkGiveUp)
	defer cancel()
	r.mu.Lock()
	r.gateWant, r.gateIn, r.gateOpen = len(ids), 0, make(chan struct{})
	r.mu.Unlock()
	quotes = make([]harness.Result, len(ids))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, id := range ids {
		wg.Go(func() { // exits when its request returns (checkGiveUp at most)
			<-start
			quotes[i] = harness.Get(ctx, t0, r.url+"/quote?id="+id, "/quote "+id)
		})
	}
	close(start)
	if docs > 0 {
		// Wait until every /quote request is past the gate and inside
		// the handler (the gate itself gives up after a second), and
		// Price calls have begun.
		harness.WaitUntil(1500*time.Millisecond, func() bool {
			return len(r.snapshot("/quote")) >= len(ids) && r.b.pricing.Now() > 0
		})
		docsRs = make([]harness.Result, docs)
		start := make(chan struct{})
		for i := range docs {
			wg.Go(func() { // exits when its request returns (checkGiveUp at most)
				<-start
				docsRs[i] = harness.Get(ctx, t0, fmt.Sprintf("%s/docs?id=D%d", r.url, i+1), fmt.Sprintf("/docs D%d", i+1))
			})
		}
		close(start)
	}
	wg.Wait()
	if ctx.Err() != nil {
		r.b.stop()
	}
	return quotes, docsRs
}

// snapshot returns a copy of what the server has seen so far of path.
// A request still inside the handler has end set to now.
func (r *checkRig) snapshot(path string) []checkServed {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []checkServed
	for _, s := range r.served {
		if s.path != path {
			continue
		}
		c := *s
		if !c.finished {
			c.end = time.Now()
		}
		out = append(out, c)
	}
	return out
}

// spans returns a span for every Price and Docs call the rig has seen,
// timed from t0.
func (r *checkRig) spans(t0 time.Time) []harness.Span {
	shift := t0.Sub(r.b.start)
	spans := r.b.rec.Spans()
	for i := range spans {
		spans[i].Start -= shift
		spans[i].End -= shift
	}
	return spans
}

// checkTally sorts the /quote requests of a burst by what became of them.
type checkTally struct {
	sent     int
	onTime   int             // answered 200 with the right price before the deadline
	late     int             // answered 200 after the deadline, or still inside at the give-up
	rejected int             // answered 503
	turned   []time.Duration // time in the server of every request not priced in time
	firstBad string          // the first answer that is neither a right price nor a 503
	bad      int
}

func checkCount(sent int, served []checkServed) checkTally {
	k := checkTally{sent: sent}
	for _, s := range served {
		switch {
		case !s.finished:
			k.late++
		case s.status == http.StatusOK && s.body == checkPrice(s.id):
			if !s.late() {
				k.onTime++
				continue
			}
			k.late++
		case s.status == http.StatusServiceUnavailable:
			k.rejected++
		default:
			k.bad++
			if k.firstBad == "" {
				want := checkPrice(s.id)
				k.firstBad = fmt.Sprintf("/quote?id=%s answered %d %q; it should answer 200 %q (the model's price, as the starter does) or 503 Service Unavailable when it cannot be priced in time.",
					s.id, s.status, strings.TrimSpace(s.body), want)
			}
			continue
		}
		k.turned = append(k.turned, s.inServer())
	}
	return k
}

// report fails the check for answers that are neither a price nor a 503,
// and for requests that never reached the server.
func (k checkTally) report(c *harness.Check, served int) {
	if k.firstBad != "" {
		c.Fail(k.firstBad)
	}
	if served < k.sent {
		c.Fail(fmt.Sprintf("%d of %d requests to /quote never reached the handler within %v.", k.sent-served, k.sent, checkGiveUp))
	}
}

// checkMedian returns the median of ds, or 0 for none.
func checkMedian(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// checkIDs returns n policy ids with the given prefix.
func checkIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = checkID(prefix, i)
	}
	return ids
}

// checkGoroutines samples runtime.NumGoroutine every millisecond until
// stop is called, and returns the peak seen.
func checkGoroutines() (stop func() int) {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() { // exits when stop is called
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak.Store(max(peak.Load(), int64(runtime.NumGoroutine())))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int { close(done); <-finished; return int(peak.Load()) }
}

func TestBounded(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	c := harness.Begin(t, fmt.Sprintf("A burst of quotes keeps every core busy and never runs more Price calls than cores (%d)", procs))
	cpu := harness.CalibrateCPU(checkUnit)
	rig := checkServer(t, cpu, checkDefault())
	n := checkPerCore * procs
	t0 := time.Now()
	peakG := checkGoroutines()
	rs, _ := rig.burst(t, t0, checkIDs("B", n), 0)
	goroutines := peakG()
	c.Timeline(append(harness.Spans(rs), rig.spans(t0)...))
	served := rig.snapshot("/quote")
	k := checkCount(n, served)
	k.report(c, len(served))
	peak := float64(rig.b.pricing.Peak())
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Price calls running at the same moment, at most, during a burst of %d requests to /quote", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("CPU work runs in a limiter sized to runtime.GOMAXPROCS(0): at most %d at once, one per core, whatever the burst", procs),
		Cause: "More computations than cores do not finish sooner: they share the cores and all finish late together. Take a CPU slot before calling Price, hold it until Price returns, and size the slots to runtime.GOMAXPROCS(0), not to the burst, the I/O slots or a round number.",
	}, "max", float64(procs), peak)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Price calls running at the same moment, at most, during a burst of %d requests to /quote", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a burst keeps all %d cores busy: one Price call per core at once", procs),
		Cause: "Fewer CPU slots than cores leave cores idle while requests wait or are turned away. Size the limiter with runtime.GOMAXPROCS(0).",
	}, "min", float64(min(procs, n)), peak)

	// The same burst once more with GOMAXPROCS changed before New, as in a
	// container with another CPU limit: the limiter must follow the
	// runtime, not a number that happens to match this machine.
	other := procs - 1
	if other < 1 {
		other = 2
	}
	runtime.GOMAXPROCS(other)
	rig2 := checkServer(t, cpu, checkDefault())
	rig2.burst(t, time.Now(), checkIDs("G", checkPerCore*other), 0)
	runtime.GOMAXPROCS(procs)
	peak2 := float64(rig2.b.pricing.Peak())
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("the same check with GOMAXPROCS set to %d before New (a burst of %d): Price calls running at the same moment, at most", other, checkPerCore*other),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the limiter follows runtime.GOMAXPROCS(0), read in New: %d at once when it is %d", other, other),
		Cause: "The limiter's size does not follow runtime.GOMAXPROCS(0): it is a constant that matches this machine, or runtime.NumCPU(), which counts the CPUs the process may use, whatever GOMAXPROCS or a container's CPU limit say.",
	}, "max", float64(other), peak2)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("the same check with GOMAXPROCS set to %d before New (a burst of %d): Price calls running at the same moment, at most", other, checkPerCore*other),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the limiter follows runtime.GOMAXPROCS(0), read in New: %d at once when it is %d", other, other),
		Cause: "The limiter's size does not follow runtime.GOMAXPROCS(0): it is a constant that matches this machine, or runtime.NumCPU(), which counts the CPUs the process may use, whatever GOMAXPROCS or a container's CPU limit say.",
	}, "min", float64(other), peak2)
	c.Note(fmt.Sprintf("Of %d requests to /quote: priced in time %d, answered late %d, turned away with 503 %d; the median time in the server of those not priced in time was %s. Price was called %d times; the test process had at most %d goroutines (its own clients included). GOMAXPROCS is %d; one unit of CPU work is %d spin iterations, calibrated to %s on one idle core (one unit just took %s).",
		n, k.onTime, k.late, k.rejected, harness.Format(harness.Millis, harness.Ms(checkMedian(k.turned))), rig.b.calls.Load(), goroutines, procs, cpu.Iterations, harness.Format(harness.Millis, harness.Ms(checkUnit)), harness.Format(harness.Millis, harness.Ms(cpu.Duration))))
}

func TestRejectFast(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	c := harness.Begin(t, "What cannot be priced before its deadline is turned away at once with 503")
	cpu := harness.CalibrateCPU(checkUnit)
	n := checkPerCore * procs
	setup := checkSetup{cost: checkLongCost, slow: procs, slowFor: checkRejectFirst * checkLongCost}
	rig := checkServer(t, cpu, setup)
	t0 := time.Now()
	rs, _ := rig.burst(t, t0, checkIDs("R", n), 0)
	c.Timeline(append(harness.Spans(rs), rig.spans(t0)...))
	served := rig.snapshot("/quote")
	k := checkCount(n, served)
	k.report(c, len(served))
	early := 0
	for _, s := range served {
		if s.finished && s.status == http.StatusServiceUnavailable && !rig.b.returned(s.end) {
			early++
		}
	}
	fit := checkBudget * procs // one round of Cost per core fits in each unit of the budget
	c.Value(harness.Quantity{
		What: fmt.Sprintf("requests to /quote answered 503 before the first Price call returned, of a burst of %d with Cost %s, each with a deadline %d costs (%s) after it arrives, whose first %d Price calls take %d costs",
			n, harness.Format(harness.Millis, harness.Ms(checkLongCost)), checkBudget, harness.Format(harness.Millis, checkBudget*harness.Ms(checkLongCost)), procs, checkRejectFirst),
		Unit: harness.Count,
		Want: fmt.Sprintf("%d cores can price at most %d requests in %d costs; the other %d (at least) hear 503 at once, on arrival, before any computation has finished", procs, fit, checkBudget, n-fit),
		Cause: "Requests that cannot be priced in time waited before they heard 503. Decide when the request arrives: if the computations already ahead of it, shared among the CPU slots, plus its own would end after r.Context().Deadline(), answer 503 before waiting. " +
			"A rule that only looks when a slot comes free, a wait that runs into the deadline, or no rule at all makes these requests wait first.",
	}, "min", float64(n-fit), float64(early))
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("requests to /quote accepted (not answered 503 before the first Price call returned), of the same burst of %d", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the first %d requests find a free core at once, and the %d behind them have one round of Cost ahead (%s of the %s left): both can be priced in time, so both are admitted", procs, procs, harness.Format(harness.Millis, harness.Ms(checkLongCost)), harness.Format(harness.Millis, checkBudget*harness.Ms(checkLongCost))),
		Cause: "The handler turns away requests the cores could still price in time: a request that would wait for one or two rounds of Cost is admitted. Turning away everything that finds no free core is not the rule; compare the computations ahead with the time left.",
	}, "min", float64(2*procs), float64(n-early))
	c.Note(fmt.Sprintf("Of %d requests to /quote: priced in time %d, answered late %d, turned away with 503 %d (%d of them before the first Price call returned). Median time in the server of the requests not priced in time: %s.",
		n, k.onTime, k.late, k.rejected, early, harness.Format(harness.Millis, harness.Ms(checkMedian(k.turned)))))

	// The same burst with a shorter deadline: only the requests that find
	// a free core can be priced in time, so nothing else may be admitted.
	short := checkServer(t, cpu, checkSetup{cost: checkLongCost, budget: checkShortBudget, slow: procs, slowFor: checkLongCost / 2})
	t1 := time.Now()
	short.burst(t, t1, checkIDs("S", n), 0)
	served = short.snapshot("/quote")
	k = checkCount(n, served)
	k.report(c, len(served))
	doomed := 0 // admitted (not turned away on arrival), and not priced in time
	for _, s := range served {
		onArrival := s.finished && s.status == http.StatusServiceUnavailable && !short.b.returned(s.end)
		priced := s.finished && s.status == http.StatusOK && s.body == checkPrice(s.id) && !s.late()
		if !onArrival && !priced {
			doomed++
		}
	}
	c.Value(harness.Quantity{
		What: fmt.Sprintf("requests to /quote admitted but not priced in time (turned away only after waiting, or answered late), of a burst of %d with Cost %s and a shorter deadline, %.1f costs (%s) after arrival, whose first %d Price calls take half a cost",
			n, harness.Format(harness.Millis, harness.Ms(checkLongCost)), checkShortBudget, harness.Format(harness.Millis, checkShortBudget*harness.Ms(checkLongCost)), procs),
		Unit: harness.Count,
		Want: fmt.Sprintf("with %.1f costs left, a request behind the %d computations that fill the cores would end after its deadline, so only those %d are admitted and every other request hears 503 on arrival", checkShortBudget, procs, procs),
		Cause: "The handler admitted requests that could not be priced before this shorter deadline. A fixed queue length (a number of waiting requests sized for one deadline) is not the rule: " +
			"compare the rounds of Cost ahead of the request, plus its own, with the time left until r.Context().Deadline().",
	}, "max", float64(procs/2), float64(doomed))
	c.Note(fmt.Sprintf("With the shorter deadline, of %d requests to /quote: priced in time %d, answered late %d, turned away with 503 %d.", n, k.onTime, k.late, k.rejected))
}

func TestOnTime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	c := harness.Begin(t, "No request is priced after its deadline, even when the first jobs take longer than Cost")
	cpu := harness.CalibrateCPU(checkLongCost)
	n := checkPerCore * procs
	var spans []harness.Span
	var k checkTally
	var served int
	c.AtMost(harness.Quantity{
		What: fmt.Sprintf("requests to /quote answered 200 after their deadline (accepted but late), of a burst of %d with Cost %s, each with a deadline %d costs after it arrives, whose first %d Price calls take %.2f costs instead of one",
			n, harness.Format(harness.Millis, harness.Ms(checkLongCost)), checkBudget, procs, checkSlow),
		Unit: harness.Count,
		Want: "a request that can no longer be priced before its deadline gets 503, even if it looked possible when it arrived: a late price is a wasted core and a client that has gone",
		Cause: "Requests admitted on the estimate waited behind jobs slower than Cost and then were priced anyway. When a request gets its CPU slot, look at the deadline again: " +
			"if less than Cost is left, answer 503 and free the slot. Without any deadline rule (or without a limit), most of the burst comes late.",
		Beyond: 2, // a count of up to three times the bound is measured again
	}, float64(procs/2), func() float64 { // 0 on one core, where the wrong count is 1
		rig := checkServer(t, cpu, checkSetup{cost: checkLongCost, slow: procs, slowFor: time.Duration(checkSlow * float64(checkLongCost))})
		t0 := time.Now()
		rs, _ := rig.burst(t, t0, checkIDs("T", n), 0)
		spans = append(harness.Spans(rs), rig.spans(t0)...)
		s := rig.snapshot("/quote")
		served = len(s)
		k = checkCount(n, s)
		return float64(k.late)
	})
	c.Timeline(spans)
	k.report(c, served)
	c.Note(fmt.Sprintf("Of %d requests to /quote: priced in time %d, answered late %d, turned away with 503 %d.", n, k.onTime, k.late, k.rejected))
}

func TestIOFree(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	c := harness.Begin(t, "CPU work leaves every I/O slot free for /docs")
	cpu := harness.CalibrateCPU(checkUnit)
	n := checkPerCore * procs
	slots := checkIOPerCore * procs
	rig := checkServer(t, cpu, checkSetup{cost: checkUnit, holdForDocs: true})
	t0 := time.Now()
	rs, ds := rig.burst(t, t0, checkIDs("I", n), slots)
	c.Timeline(append(append(harness.Spans(rs), harness.Spans(ds)...), rig.spans(t0)...))
	c.Value(harness.Quantity{
		What: fmt.Sprintf("/docs requests in the document store at the same moment while the first Price calls run, of %d sent at once (one per I/O slot) during a burst of %d requests to /quote; the Price calls wait until all %d are in the store, or %s",
			slots, n, slots, harness.Format(harness.Millis, harness.Ms(checkHold))),
		Unit: harness.Count,
		Want: fmt.Sprintf("CPU work never holds an I/O slot, so all %d /docs requests find a free slot and are in the store together while the computations run", slots),
		Cause: "CPU work holds I/O slots: /quote takes one of them for its computation, or holds one while it waits for a CPU slot, so /docs waits until computations end. " +
			"Give CPU work slots of its own, one per core, and have /quote take only those.",
	}, "min", float64(slots), float64(rig.b.docsEarly.Load()))
	c.Note(fmt.Sprintf("At most %d /docs requests were in the store at once; %d Price calls ran at once, at most.", rig.b.docs.Peak(), rig.b.pricing.Peak()))
	if unanswered := len(harness.Failed(ds)); unanswered > 0 {
		c.Fail(fmt.Sprintf("%d of %d /docs requests got no 200 answer (the store answers \"ready\" as soon as it holds all %d, and /docs may wait up to %v).", unanswered, slots, slots, checkHold))
	}
}

func TestDoesWork(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	c := harness.Begin(t, "Every quote is computed for its own request: right prices, one Price call each")
	cpu := harness.CalibrateCPU(checkUnit)
	rig := checkServer(t, cpu, checkDefault())
	ids := checkIDs("W", procs)
	const rounds = 3
	t0 := time.Now()
	var rs []harness.Result
	for range rounds {
		q, _ := rig.burst(t, t0, ids, 0)
		rs = append(rs, q...)
	}
	c.Timeline(append(harness.Spans(rs), rig.spans(t0)...))
	served := rig.snapshot("/quote")
	n := rounds * len(ids)
	right := 0
	answers := map[string]int{}
	ends := map[string][]time.Time{} // when each policy's right answers were written
	firstBad := ""
	for _, s := range served {
		if s.finished && s.status == http.StatusOK && s.body == checkPrice(s.id) {
			right++
			answers[s.id]++
			ends[s.id] = append(ends[s.id], s.end)
		} else if firstBad == "" {
			firstBad = fmt.Sprintf("/quote?id=%s answered %d %q, with no other request waiting beyond the cores; it should answer 200 %q.", s.id, s.status, strings.TrimSpace(s.body), checkPrice(s.id))
		}
	}
	if firstBad != "" {
		c.Fail(firstBad)
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("requests to /quote answered with the right price, %d rounds of %d (one per core) for the same %d policies", rounds, len(ids), len(ids)),
		Unit:  harness.Count,
		Want:  "with no more requests than cores, every one is priced in time",
		Cause: "See the first message.",
	}, "min", float64(n), float64(right))
	rig.b.mu.Lock()
	reused := 0
	for id, a := range answers {
		reused += max(0, a-rig.b.priced[id])
	}
	rig.b.mu.Unlock()
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("right prices answered without a Price call of their own (%d answers, %d Price calls)", right, rig.b.calls.Load()),
		Unit:  harness.Count,
		Want:  "every request runs the model: the inputs change from minute to minute, so a price must not be kept and reused",
		Cause: "Prices are cached across requests. The checks ask for the same policies in several rounds and count the calls.",
	}, "max", 0, float64(reused))
	// The k-th right answer for a policy cannot be written before the
	// k-th Price call for it has returned.
	rig.b.mu.Lock()
	ahead := 0
	for id, es := range ends {
		slices.SortFunc(es, func(a, b time.Time) int { return a.Compare(b) })
		done := rig.b.doneAt[id]
		for k, e := range es {
			if k >= len(done) || e.Before(done[k]) {
				ahead++
			}
		}
	}
	rig.b.mu.Unlock()
	c.Value(harness.Quantity{
		What:  "right prices written before a Price call of their own had returned",
		Unit:  harness.Count,
		Want:  "a price is answered after the model has computed it, never before",
		Cause: "A price came back without the work behind it: it was kept from an earlier request, made up, or answered while the computation was still running.",
	}, "max", 0, float64(ahead))
}
