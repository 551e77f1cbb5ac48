//go:build tutorcheck

package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
	"github.com/gotutor/tutor/lessons/loop"
)

// The contract the checks hold Register to.
const (
	checkUnit   = 50 * time.Millisecond   // one backend call: a render, or the warehouse's answer
	checkPool   = 40                      // pool slots: anyio's default limiter
	checkBurst  = 120                     // requests sent at once to one endpoint
	checkGiveUp = 1500 * time.Millisecond // a burst stops waiting for answers after this
	checkLeft   = 12                      // what the warehouse answers

	// checkBurstBound is the most a burst of /invoice or /checkout may take,
	// in ms. Correct code takes about 200–260 ms; the code these checks must
	// fail (a render or a wait on the loop) goes one request at a time and
	// is stopped at checkGiveUp. The bound sits near the geometric middle of
	// the two, 2.5× from each: at 350/400 ms a correct solution failed once
	// with the machine four times oversubscribed (426 ms, three samples).
	checkBurstBound = 600
)

// The three endpoints as the checks call them, with the answers correct
// code gives (the starter's answers).
var (
	checkInvoice  = checkEndpoint{"/invoice?order=A7", "/invoice", "invoice-A7.pdf"}
	checkStock    = checkEndpoint{"/stock?item=mug", "/stock", fmt.Sprint(checkLeft)}
	checkCheckout = checkEndpoint{"/checkout?order=A7&item=mug", "/checkout", fmt.Sprintf("invoice-A7.pdf, %d left", checkLeft)}
)

// checkEndpoint is one endpoint: the path with its query, the label on the
// timeline, and the answer correct code gives.
type checkEndpoint struct{ path, label, want string }

// checkBackend is the Services the checks pass to Register. Every call
// takes one unit, and the backend counts how it is called: how many renders
// run at once, and which calls come from inside a pool slot.
type checkBackend struct {
	// quit is closed once the check has stopped listening; calls then
	// return at once, so a server stuck behind a blocked loop drains fast.
	quit *harness.Quit

	// rec draws the timeline: one span per backend call, so the chart
	// shows what really ran at once (renders in rounds of 40, or one at a
	// time; warehouse waits all together, or in rounds), not how long the
	// clients queued.
	rec   *harness.Recorder
	start time.Time // rec's time zero

	renders        harness.Gauge // RenderInvoice calls in progress
	renderCalls    atomic.Int64
	rendersOutside atomic.Int64 // RenderInvoice calls made outside a pool slot
	stockCalls     atomic.Int64
	stockInSlot    atomic.Int64 // Stock calls made from inside a pool slot
}

func (b *checkBackend) services() Services {
	return Services{
		RenderInvoice: func(order string) string {
			b.renderCalls.Add(1)
			if !loop.InPoolSlot() {
				b.rendersOutside.Add(1)
			}
			defer b.renders.Enter()()
			end := b.rec.Start("RenderInvoice(" + order + ")")
			end(b.wait()) // a blocking library call
			return "invoice-" + order + ".pdf"
		},
		Stock: func(item string) <-chan int {
			b.stockCalls.Add(1)
			if loop.InPoolSlot() {
				b.stockInSlot.Add(1)
			}
			// Buffered, so the sender never waits for the handler. The
			// goroutine exits after one unit, or sooner once the check has
			// stopped listening.
			reply := make(chan int, 1)
			end := b.rec.Start("Stock(" + item + ") wait")
			go func() {
				end(b.wait())
				reply <- checkLeft
			}()
			return reply
		},
	}
}

// wait blocks for one unit, or until the check stops listening. It returns
// the call's outcome for the timeline: "ok", or "late" if it was cut short.
func (b *checkBackend) wait() string {
	t := time.NewTimer(checkUnit)
	defer t.Stop()
	select {
	case <-t.C:
		return "ok"
	case <-b.quit.Done():
		return "late"
	}
}

// checkNoDetector is what a check that needs loop.InPoolSlot says when the
// detector cannot tell a pool slot from the loop with this version of the
// loop package (see loop.VerifyInPoolSlot).
const checkNoDetector = "The check cannot tell pool slots from the loop with this loop package"

// checkRig is a fresh app with a pool of checkPool slots serving
// Register's endpoints with a new backend, plus a trivial async /health.
// It also records how long each request spent inside the server, which
// leaves out the client's own costs (dialling 120 connections on a busy
// machine can take longer than the handlers' waits).
type checkRig struct {
	b   *checkBackend
	app *loop.App
	url string

	mu     sync.Mutex
	served map[string][]time.Duration // path → time inside the server, per request

	gate atomic.Pointer[checkGate] // set while a burst is being let in
}

// checkGate holds the requests of a burst at the server's door until all
// of them have arrived (or a second has passed), then lets them in
// together. On a busy machine connections open slowly, and a burst that
// trickles in would not fill the pool: how the requests arrive must not
// decide what the check measures. The gate is outside the learner's code.
type checkGate struct {
	n       int64
	arrived atomic.Int64
	open    chan struct{}
	once    sync.Once
}

func (g *checkGate) wait() {
	if g.arrived.Add(1) >= g.n {
		g.once.Do(func() { close(g.open) })
	}
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	select {
	case <-g.open:
	case <-timer.C:
	}
}

// checkServer starts a checkRig that lives until the test ends.
func checkServer(t *testing.T) *checkRig {
	start := time.Now()
	b := &checkBackend{quit: harness.NewQuit(), rec: harness.NewRecorder(start), start: start}
	r := &checkRig{b: b, served: map[string][]time.Duration{}}
	r.app = loop.New(loop.Options{PoolSize: checkPool})
	Register(r.app, r.b.services())
	r.app.Async("/health", func(*loop.Ctx) string { return "ok" })
	t.Cleanup(r.b.quit.Close) // runs before the server closes (cleanups run last-in, first-out)
	r.url = harness.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if g := r.gate.Load(); g != nil && req.URL.Path != "/health" {
			g.wait()
		}
		start := time.Now()
		r.app.ServeHTTP(w, req)
		r.mu.Lock()
		r.served[req.URL.Path] = append(r.served[req.URL.Path], time.Since(start))
		r.mu.Unlock()
	}))
	return r
}

// servedTimes returns the time each finished request to path spent inside
// the server.
func (r *checkRig) servedTimes(path string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.served[path])
}

// load fires n[ep] requests at each endpoint ep, all at once, and returns
// every result once all have answered or the check gave up after
// checkGiveUp. Requests still waiting then are marked "late", and the
// backend stops being slow so that the server drains quickly.
func (r *checkRig) load(t *testing.T, t0 time.Time, n map[checkEndpoint]int) map[checkEndpoint][]harness.Result {
	defer r.b.quit.Close()
	return r.send(t, t0, n)
}

// send is load without the end: the backend stays slow afterwards, so that
// the same app can take more requests.
func (r *checkRig) send(t *testing.T, t0 time.Time, n map[checkEndpoint]int) map[checkEndpoint][]harness.Result {
	ctx, cancel := context.WithTimeout(t.Context(), checkGiveUp)
	defer cancel()
	out := make(map[checkEndpoint][]harness.Result, len(n))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for ep, k := range n {
		wg.Go(func() { // exits when every request to ep has returned (checkGiveUp at most)
			rs := harness.Fire(ctx, t0, r.url+ep.path, k, ep.label)
			for i := range rs {
				if errors.Is(rs[i].Err, context.DeadlineExceeded) {
					rs[i].Outcome = "late"
				}
			}
			mu.Lock()
			out[ep] = rs
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// burst fires checkBurst requests at one endpoint.
func (r *checkRig) burst(t *testing.T, ep checkEndpoint) []harness.Result {
	defer r.b.quit.Close()
	return r.burstKeep(t, ep)
}

// burstKeep is burst without the end of load: the backend stays slow.
func (r *checkRig) burstKeep(t *testing.T, ep checkEndpoint) []harness.Result {
	r.gate.Store(&checkGate{n: checkBurst, open: make(chan struct{})})
	defer r.gate.Store(nil)
	return r.send(t, time.Now(), map[checkEndpoint]int{ep: checkBurst})[ep]
}

// checkGaveUp reports whether the check gave up on any of rs.
func checkGaveUp(rs []harness.Result) bool {
	return slices.ContainsFunc(rs, func(r harness.Result) bool { return r.Outcome == "late" })
}

// checkReplies fails the check for the first request that got a wrong
// answer. Requests the check gave up on are only counted: the timing
// judgement already explains them.
func checkReplies(c *harness.Check, ep checkEndpoint, rs []harness.Result) {
	late := 0
	for i, r := range rs {
		switch {
		case r.Outcome == "late":
			late++
		case r.Err != nil:
			c.Fail(fmt.Sprintf("Request %d to %s got no answer: %v.", i+1, ep.label, r.Err))
			return
		case r.Status != http.StatusOK || r.Body != ep.want:
			c.Fail(fmt.Sprintf("Request %d to %s answered %d %q; it should answer 200 %q, as the starter does. "+
				"If you moved a call into c.Await or c.RunInPool, assign its result with = to a variable declared before the call: := inside the function literal declares a new variable.",
				i+1, ep.label, r.Status, r.Body, ep.want))
			return
		}
	}
	if late > 0 {
		c.Note(fmt.Sprintf("%d of %d requests to %s were still waiting when the check gave up after %v.", late, len(rs), ep.label, checkGiveUp))
	}
}

// checkAtMost judges a measurement that a stall of the whole machine can
// spoil: on a busy 2-core box a test process sometimes gets no CPU for
// several hundred ms, and every request in flight waits with it.
// When the first sample is over the bound but not clearly broken, it
// measures twice more and judges the median of the three, so a single stall
// never decides a verdict. measure reports clear when the sample shows the
// failure beyond doubt (a request the check gave up on).
func checkAtMost(c *harness.Check, q harness.Quantity, bound float64, measure func() (v float64, clear bool)) bool {
	v, clear := measure()
	samples := []float64{v}
	if v > bound && !clear {
		for range 2 {
			v, _ := measure()
			samples = append(samples, v)
		}
		sorted := slices.Clone(samples)
		slices.Sort(sorted)
		v = sorted[1]
		parts := make([]string, len(samples))
		for i, s := range samples {
			parts[i] = harness.Format(q.Unit, s)
		}
		c.Note(fmt.Sprintf("The first sample was over the bound, so the check measured three times (%s) and judged the median.", strings.Join(parts, ", ")))
	}
	return c.Value(q, "max", bound, v)
}

// checkAnswered counts the requests in rs that got the right answer.
func checkAnswered(ep checkEndpoint, rs []harness.Result) int {
	n := 0
	for _, r := range rs {
		if r.Err == nil && r.Status == http.StatusOK && r.Body == ep.want {
			n++
		}
	}
	return n
}

// checkCalls judges that the backend name was called at least once for each
// of answered requests (what names them, e.g. "120 answered requests to
// /invoice").
func checkCalls(c *harness.Check, name string, calls int64, answered int, what string) {
	c.Value(harness.Quantity{
		What: fmt.Sprintf("%s calls for %s", name, what),
		Unit: harness.Count,
		Want: fmt.Sprintf("every request makes its own %s call, so there are at least %d", name, answered),
		Cause: fmt.Sprintf("Requests were answered without calling %s: the answer was remembered from an earlier request (a cache or a package-level variable) or written by hand. "+
			"Every request must do its own work.", name),
	}, "min", float64(answered), float64(calls))
}

// checkWork judges that every request of a burst to ep did its own backend
// work: one call per answered request to each backend the endpoint needs,
// and no request answered in less time than one call takes. It judges
// nothing when the check gave up on the burst: the timing already failed.
func checkWork(c *harness.Check, r *checkRig, ep checkEndpoint, rs []harness.Result) {
	answered := checkAnswered(ep, rs)
	if answered == 0 || checkGaveUp(rs) {
		return
	}
	what := fmt.Sprintf("%d answered requests to %s", answered, ep.label)
	if ep != checkStock {
		checkCalls(c, "RenderInvoice", r.b.renderCalls.Load(), answered, what)
	}
	if ep != checkInvoice {
		checkCalls(c, "Stock", r.b.stockCalls.Load(), answered, what)
	}
	served := r.servedTimes(ep.label)
	if len(served) == 0 {
		return
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Fastest of the requests to %s, time in the server", ep.label),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("every request waits for its own backend call, which takes %s, so none comes anywhere near as fast as half of that", harness.Format(harness.Millis, harness.Ms(checkUnit))),
		Cause: "A request was answered before its backend call could have finished: it skipped the call, did not wait for the result, or reused an earlier request's answer.",
	}, "min", harness.Ms(checkUnit)/2, harness.Ms(slices.Min(served)))
}

// checkAgain sends a few more requests to /stock and /invoice to rig once
// its burst has been answered: code that remembers answers across requests
// (in a map of the app or a package-level variable) answers them without
// calling the backend. In a burst, every request can arrive before the
// first answer exists; here the answers exist already. The backend must
// still be slow (the burst sent with burstKeep); this load ends it.
func checkAgain(t *testing.T, c *harness.Check, rig *checkRig) {
	const k = 5
	stocks, renders := rig.b.stockCalls.Load(), rig.b.renderCalls.Load()
	servedStock, servedInvoice := len(rig.servedTimes(checkStock.label)), len(rig.servedTimes(checkInvoice.label))
	rs := rig.load(t, time.Now(), map[checkEndpoint]int{checkStock: k, checkInvoice: k})
	for _, ep := range []checkEndpoint{checkStock, checkInvoice} {
		checkReplies(c, ep, rs[ep])
		if checkGaveUp(rs[ep]) {
			return
		}
	}
	what := fmt.Sprintf("%d more requests to /stock and %d to /invoice, sent to the same app after the burst was answered", k, k)
	checkCalls(c, "Stock", rig.b.stockCalls.Load()-stocks, checkAnswered(checkStock, rs[checkStock]), what)
	checkCalls(c, "RenderInvoice", rig.b.renderCalls.Load()-renders, checkAnswered(checkInvoice, rs[checkInvoice]), what)
	served := append(rig.servedTimes(checkStock.label)[servedStock:], rig.servedTimes(checkInvoice.label)[servedInvoice:]...)
	if len(served) == 0 {
		return
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Fastest of the %s, time in the server", what),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("every request waits for its own backend call, which takes %s, so none comes anywhere near as fast as half of that", harness.Format(harness.Millis, harness.Ms(checkUnit))),
		Cause: "A request was answered before its backend call could have finished: it reused an earlier request's answer (a map of the app or a package-level variable) or skipped the call.",
	}, "min", harness.Ms(checkUnit)/2, harness.Ms(slices.Min(served)))
}

func TestResponsive(t *testing.T) {
	c := harness.Begin(t, "/health answers within 50 ms while all three endpoints are busy")
	const bound = 50
	var spans []harness.Span
	var probes int
	checkAtMost(c, harness.Quantity{
		What:  "/health, asked every 10 ms while 20 requests to each endpoint run, slowest time in the server",
		Unit:  harness.Millis,
		Want:  "when no handler blocks the loop, /health gets its turn on the loop within a few ms at any moment",
		Cause: "A blocking call runs on the loop: RenderInvoice, or a receive from the Stock channel, called in an async handler outside c.RunInPool or c.Await. /health waits behind it.",
	}, bound, func() (float64, bool) {
		rig := checkServer(t)
		t0 := time.Now()
		done := make(chan map[checkEndpoint][]harness.Result, 1)
		go func() { // exits when the load has finished (checkGiveUp at most)
			done <- rig.load(t, t0, map[checkEndpoint]int{checkInvoice: 20, checkStock: 20, checkCheckout: 20})
		}()
		var health []harness.Result
		var unanswered bool
	probe:
		for i := 0; ; i++ {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			h := harness.Get(ctx, t0, fmt.Sprintf("%s/health?probe=%d", rig.url, i), "/health")
			cancel()
			h.Outcome = "probe"
			health = append(health, h)
			unanswered = unanswered || h.Err != nil || h.Status != http.StatusOK
			select {
			case <-done:
				break probe
			case <-time.After(10 * time.Millisecond):
			}
		}
		spans = append(harness.Spans(health), rig.b.rec.SpansFrom(t0)...)
		probes = len(health)
		if unanswered { // still waiting for the loop when the probe gave up
			return 1000, true
		}
		worst := slices.Max(rig.servedTimes("/health"))
		// A loop blocked by a handler holds /health for whole renders; a
		// stalled machine rarely for more than a few hundred ms.
		return harness.Ms(worst), harness.Ms(worst) >= 10*bound
	})
	c.Timeline(spans)
	c.Note(fmt.Sprintf("%d /health probes were sent during the load; a probe that got no answer within 1 s counts as 1 s.", probes))
}

func TestInvoice(t *testing.T) {
	c := harness.Begin(t, "120 requests to /invoice at once finish in about three renders (the pool runs 40 at a time)")
	var rs []harness.Result
	var rig *checkRig
	var spans []harness.Span
	checkAtMost(c, harness.Quantity{
		What:  "120 requests to /invoice at once, total time",
		Unit:  harness.Millis,
		Want:  "with the blocking render in the pool, 40 run at a time: three rounds of 50 ms, about 150–200 ms",
		Cause: "RenderInvoice runs on the loop (an async handler calls it directly), so the renders go one at a time, 50 ms each.",
	}, checkBurstBound, func() (float64, bool) {
		rig = checkServer(t)
		rs = rig.burst(t, checkInvoice)
		spans = rig.b.rec.SpansFrom(rig.b.start)
		return harness.Ms(harness.Wall(rs)), checkGaveUp(rs)
	})
	c.Timeline(spans)
	checkReplies(c, checkInvoice, rs)
	checkWork(c, rig, checkInvoice, rs)
}

func TestStock(t *testing.T) {
	c := harness.Begin(t, "120 requests to /stock at once all finish in about one warehouse wait")
	const slow = 125 * time.Millisecond // two and a half waits
	var rs []harness.Result
	var rig *checkRig
	var spans []harness.Span
	var poolPeak int
	checkAtMost(c, harness.Quantity{
		What: fmt.Sprintf("requests to /stock (120 at once) that spent longer than %s in the server", harness.Format(harness.Millis, harness.Ms(slow))),
		Unit: harness.Count,
		Want: "awaited, all 120 wait for the warehouse together and each spends about 50 ms in the server, none near 125 ms",
		Cause: "Either the wait holds one of the 40 pool slots (app.Sync, or c.RunInPool around the receive), so the requests wait in rounds of 40 and finish at about 50, 100 and 150 ms, " +
			"or the receive runs on the loop without c.Await, so they wait one after another.",
	}, 12, func() (float64, bool) {
		rig = checkServer(t)
		rs = rig.burstKeep(t, checkStock) // checkAgain sends more to this app
		if checkGaveUp(rs) {
			rig.b.quit.Close() // no more: let the server drain
		}
		spans = rig.b.rec.SpansFrom(rig.b.start)
		poolPeak = rig.app.Stats().PoolPeak
		// A request the check gave up on was slow even if the server
		// never finished it.
		slowN, late := 0, 0
		for _, r := range rs {
			if r.Outcome == "late" {
				late++
			}
		}
		for _, d := range rig.servedTimes("/stock") {
			if d > slow {
				slowN++
			}
		}
		return float64(min(slowN+late, len(rs))), checkGaveUp(rs)
	})
	c.Timeline(spans)
	checkReplies(c, checkStock, rs)
	checkWork(c, rig, checkStock, rs)
	if !checkGaveUp(rs) {
		checkAgain(t, c, rig)
	}
	c.Note(fmt.Sprintf("The whole burst took %s; at most %d pool slots were in use at once (correct code: 0).", harness.Format(harness.Millis, harness.Ms(harness.Wall(rs))), poolPeak))
}

func TestCheckout(t *testing.T) {
	c := harness.Begin(t, "120 requests to /checkout at once finish in about one wait plus three rounds of renders")
	var rs []harness.Result
	var rig *checkRig
	var spans []harness.Span
	checkAtMost(c, harness.Quantity{
		What:  "120 requests to /checkout at once, total time",
		Unit:  harness.Millis,
		Want:  "the 120 stock waits overlap (50 ms), then the renders go through the 40 pool slots in three rounds (150 ms): about 200–250 ms",
		Cause: "A blocking call runs on the loop (RenderInvoice outside c.RunInPool, or the receive outside c.Await), so the checkouts go one at a time.",
	}, checkBurstBound, func() (float64, bool) {
		rig = checkServer(t)
		rs = rig.burst(t, checkCheckout)
		spans = rig.b.rec.SpansFrom(rig.b.start)
		return harness.Ms(harness.Wall(rs)), checkGaveUp(rs)
	})
	c.Timeline(spans)
	checkReplies(c, checkCheckout, rs)
	checkWork(c, rig, checkCheckout, rs)
}

func TestPoolLimit(t *testing.T) {
	c := harness.Begin(t, "The PDF library never runs more than 40 calls at once, and each call runs in a pool slot")
	c.Precondition(checkNoDetector, loop.VerifyInPoolSlot())
	rig := checkServer(t)
	b := rig.b
	rs := rig.load(t, time.Now(), map[checkEndpoint]int{checkInvoice: 110, checkCheckout: 10})
	for _, ep := range []checkEndpoint{checkInvoice, checkCheckout} {
		checkReplies(c, ep, rs[ep])
	}
	c.Timeline(rig.b.rec.SpansFrom(b.start))
	c.Value(harness.Quantity{
		What:  "RenderInvoice calls made outside a pool slot, with 110 /invoice and 10 /checkout requests at once",
		Unit:  harness.Count,
		Want:  "a blocking call with no async version belongs in the pool (app.Sync, or c.RunInPool in an async handler), so every call runs in a slot: 0 outside",
		Cause: "RenderInvoice is called on the loop, or inside c.Await or a goroutine. c.Await stands for await, and a blocking library cannot be awaited: in FastAPI it would hold the event loop's thread, or a thread outside the 40 tokens.",
	}, "max", 0, float64(b.rendersOutside.Load()))
	c.Value(harness.Quantity{
		What:  "most RenderInvoice calls running at once",
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the pool has %d slots, so at most %d renders run at once", checkPool, checkPool),
		Cause: "The renders do not go through the pool, so nothing limits how many run at once.",
	}, "max", checkPool, float64(b.renders.Peak()))
	checkCalls(c, "RenderInvoice", b.renderCalls.Load(), checkAnswered(checkInvoice, rs[checkInvoice])+checkAnswered(checkCheckout, rs[checkCheckout]),
		"110 requests to /invoice and 10 to /checkout (counting those answered right)")
	s := rig.app.Stats()
	c.Note(fmt.Sprintf("RenderInvoice was called %d times; the loop counted at most %d of its %d pool slots in use.", b.renderCalls.Load(), s.PoolPeak, s.PoolSize))
}

func TestPoolPressure(t *testing.T) {
	c := harness.Begin(t, "Waiting for the warehouse never occupies a pool slot")
	c.Precondition(checkNoDetector, loop.VerifyInPoolSlot())
	rig := checkServer(t)
	b := rig.b
	rs := rig.load(t, time.Now(), map[checkEndpoint]int{checkStock: 20, checkCheckout: 20})
	for _, ep := range []checkEndpoint{checkStock, checkCheckout} {
		checkReplies(c, ep, rs[ep])
	}
	c.Timeline(rig.b.rec.SpansFrom(b.start))
	c.Value(harness.Quantity{
		What:  "Stock calls made from inside a pool slot, with 20 /stock and 20 /checkout requests at once",
		Unit:  harness.Count,
		Want:  "an awaitable wait is awaited on the loop (c.Await), where any number can wait at once for free: 0 in a slot",
		Cause: "The wait for the warehouse holds a pool slot: /stock or /checkout is a sync route (app.Sync), or c.RunInPool wraps the wait. Each waiting request then takes one of the 40 slots that blocking calls need.",
	}, "max", 0, float64(b.stockInSlot.Load()))
	checkCalls(c, "Stock", b.stockCalls.Load(), checkAnswered(checkStock, rs[checkStock])+checkAnswered(checkCheckout, rs[checkCheckout]),
		"20 requests to /stock and 20 to /checkout (counting those answered right)")
}
