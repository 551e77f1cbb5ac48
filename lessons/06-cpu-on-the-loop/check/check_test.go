//go:build tutorcheck

package recommend

import (
	"context"
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
	"github.com/gotutor/tutor/lessons/loop"
)

// The contract the checks hold Register to.
const (
	checkUnit     = 50 * time.Millisecond // CPU time to score one user's candidates, alone on one core
	checkProducts = 10                    // candidates per user; each Score call is a tenth of a unit
	checkPool     = 40                    // pool slots: anyio's default limiter
	checkBusy     = 6                     // /recommend requests sent at once while /health is probed
	checkGiveUp   = 5 * time.Second       // a load stops waiting for answers after this
)

// checkBackend is the Services the checks pass to Register. Score burns a
// calibrated slice of CPU and counts where it is called from.
type checkBackend struct {
	cpu  harness.CPUUnit
	quit *harness.Quit // closed once the check has stopped listening: Score then returns at once

	rec   *harness.Recorder // one span per Score call, for the timeline
	start time.Time         // rec's time zero

	scoring harness.Gauge // Score calls in progress
	calls   atomic.Int64

	doneMu  sync.Mutex
	done    map[string]int // Score calls finished, per user
	outside atomic.Int64   // Score calls made outside a pool slot
}

// checkScore is the model's answer: a fixed pseudo-random score per user
// and product, so the checks know every right answer in advance.
func checkScore(user, product string) float64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%s", user, product)
	return float64(h.Sum32()%10000) / 10000
}

// checkCandidates returns the user's candidate products, p1 to p10.
func checkCandidates(string) []string {
	ps := make([]string, checkProducts)
	for i := range ps {
		ps[i] = fmt.Sprintf("p%d", i+1)
	}
	return ps
}

// checkWant is the right answer for user: the three best products.
func checkWant(user string) string {
	ps := checkCandidates(user)
	slices.SortStableFunc(ps, func(a, b string) int {
		sa, sb := checkScore(user, a), checkScore(user, b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	return strings.Join(ps[:3], ",")
}

func (b *checkBackend) services() Services {
	return Services{
		Candidates: checkCandidates,
		Score: func(user, product string) float64 {
			b.calls.Add(1)
			if !loop.InPoolSlot() {
				b.outside.Add(1)
			}
			defer b.scoring.Enter()()
			end := b.rec.Start(fmt.Sprintf("Score(%s, %s)", user, product))
			select {
			case <-b.quit.Done():
				end("late")
			default:
				harness.Spin(b.cpu.Iterations / checkProducts)
				end("ok")
			}
			b.doneMu.Lock()
			b.done[user]++
			b.doneMu.Unlock()
			return checkScore(user, product)
		},
	}
}

// checkNoDetector is what a check that needs loop.InPoolSlot says when the
// detector cannot tell a pool slot from the loop with this version of the
// loop package (see loop.VerifyInPoolSlot).
const checkNoDetector = "The check cannot tell pool slots from the loop with this loop package"

// checkRig is a fresh app with a pool of checkPool slots serving
// Register's endpoints with a new backend, plus a trivial async /health.
// It records how long each /health request spent inside the server: the
// wait for the loop, without the client's own costs.
type checkRig struct {
	b   *checkBackend
	app *loop.App
	url string

	mu       sync.Mutex
	health   []time.Duration     // time inside the server, per finished /health request
	inside   map[int64]time.Time // /health requests inside the server now, by arrival number
	arrived  int64               // /health requests that reached the server
	answered int                 // requests to /recommend whose answer went out
	unscored int                 // of those, answered before 10 Score calls for their user had finished, 10 more for each earlier answer to the user
	served   map[string]int      // answers sent so far, per user
}

// checkSnapWriter calls snap once, when the handler starts to write its answer.
type checkSnapWriter struct {
	http.ResponseWriter
	once sync.Once
	snap func()
}

func (w *checkSnapWriter) WriteHeader(code int) {
	w.once.Do(w.snap)
	w.ResponseWriter.WriteHeader(code)
}

func (w *checkSnapWriter) Write(b []byte) (int, error) {
	w.once.Do(w.snap)
	return w.ResponseWriter.Write(b)
}

// checkServer starts a checkRig that lives until the test ends.
func checkServer(t *testing.T, cpu harness.CPUUnit) *checkRig {
	start := time.Now()
	b := &checkBackend{cpu: cpu, quit: harness.NewQuit(), rec: harness.NewRecorder(start), start: start, done: map[string]int{}}
	r := &checkRig{b: b, app: loop.New(loop.Options{PoolSize: checkPool}), inside: map[int64]time.Time{}, served: map[string]int{}}
	Register(r.app, b.services())
	r.app.Async("/health", func(*loop.Ctx) string { return "ok" })
	t.Cleanup(b.quit.Close) // runs before the server closes (cleanups run last-in, first-out)
	r.url = harness.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/health" {
			// When the answer starts to go out, the user's scoring must be
			// done: count the Score calls finished for this user by then,
			// 10 for this answer and 10 for each earlier one to the user.
			user := req.URL.Query().Get("user")
			sw := &checkSnapWriter{ResponseWriter: w, snap: func() {
				b.doneMu.Lock()
				scored := b.done[user]
				b.doneMu.Unlock()
				r.mu.Lock()
				r.answered++
				r.served[user]++
				if scored < checkProducts*r.served[user] {
					r.unscored++
				}
				r.mu.Unlock()
			}}
			r.app.ServeHTTP(sw, req)
			return
		}
		r.mu.Lock()
		r.arrived++
		id, start := r.arrived, time.Now()
		r.inside[id] = start
		r.mu.Unlock()
		r.app.ServeHTTP(w, req)
		r.mu.Lock()
		delete(r.inside, id)
		r.health = append(r.health, time.Since(start))
		r.mu.Unlock()
	}))
	return r
}

// slowestHealth returns the longest time a /health request spent inside
// the server, counting requests still inside up to now, and how many
// reached the server. It judges the server alone: a probe slowed down on
// the client's side of a busy machine does not count against the loop.
func (r *checkRig) slowestHealth() (time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var worst time.Duration
	for _, d := range r.health {
		worst = max(worst, d)
	}
	for _, start := range r.inside {
		worst = max(worst, time.Since(start))
	}
	return worst, int(r.arrived)
}

// checkUser names the i-th user of a load.
func checkUser(i int) string { return fmt.Sprintf("u%d", i+1) }

// load sends n requests to /recommend at once, one per user u1…un, and
// returns their results once all have answered or the check gave up after
// checkGiveUp. Then the backend stops burning CPU, so a server that is
// still busy drains quickly.
func (r *checkRig) load(t *testing.T, t0 time.Time, n int) []harness.Result {
	return r.send(t, t0, n, true)
}

// send is load; with stop false the backend keeps burning CPU afterwards,
// so that the same app can take another load.
func (r *checkRig) send(t *testing.T, t0 time.Time, n int, stop bool) []harness.Result {
	ctx, cancel := context.WithTimeout(t.Context(), checkGiveUp)
	defer cancel()
	if stop {
		defer r.b.quit.Close()
	}
	out := make([]harness.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { // exits when its request returns (checkGiveUp at most)
			out[i] = harness.Get(ctx, t0, r.url+"/recommend?user="+checkUser(i), "/recommend "+checkUser(i))
		})
	}
	wg.Wait()
	return out
}

// checkReplies fails the check for the first request that got no answer
// or a wrong one, and reports how many answered right.
func checkReplies(c *harness.Check, rs []harness.Result) int {
	right := 0
	failed := false
	for i, r := range rs {
		want := checkWant(checkUser(i))
		switch {
		case r.Err == nil && r.Status == http.StatusOK && r.Body == want:
			right++
			continue
		case failed:
			continue
		case r.Err != nil:
			c.Fail(fmt.Sprintf("/recommend?user=%s got no answer within %v: %v. Scoring one user takes about %v of CPU.", checkUser(i), checkGiveUp, r.Err, checkUnit))
		default:
			c.Fail(fmt.Sprintf("/recommend?user=%s answered %d %q; it should answer 200 %q, as the starter does. "+
				"If you moved the scoring into c.RunInPool, assign its result with = to a variable declared before the call: := inside the function literal declares a new variable.",
				checkUser(i), r.Status, r.Body, want))
		}
		failed = true
	}
	return right
}

// checkScored judges that the requests in rs, served by rigs, each scored
// their own user: 10 Score calls for each right answer among rs, and every
// answer sent only after 10 Score calls for its user had finished (10 more
// for each earlier answer the rig sent to the same user). Both are counts:
// a busy machine cannot change them. what names the requests for the
// learner.
func checkScored(c *harness.Check, rs []harness.Result, what string, rigs ...*checkRig) {
	right := 0
	for i, r := range rs {
		if r.Err == nil && r.Status == http.StatusOK && r.Body == checkWant(checkUser(i%checkBusy)) {
			right++
		}
	}
	if right == 0 {
		return // checkReplies has said why
	}
	var calls int64
	var answered, unscored int
	for _, rig := range rigs {
		calls += rig.b.calls.Load()
		rig.mu.Lock()
		answered += rig.answered
		unscored += rig.unscored
		rig.mu.Unlock()
	}
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Score calls for %s (%d answered right)", what, right),
		Unit: harness.Count,
		Want: fmt.Sprintf("every request scores its user's %d products itself, so there are at least %d calls", checkProducts, right*checkProducts),
		Cause: "Requests were answered without scoring: the answer was remembered from an earlier request (in a map of the app or a package-level variable) or computed without Score. " +
			"Every request must do its own work.",
	}, "min", float64(right*checkProducts), float64(calls))
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Requests answered before their user's %d Score calls had finished (%s; %d answered)", checkProducts, what, answered),
		Unit:  harness.Count,
		Want:  "each request answers with the scores it computed, so its answer goes out after its scoring is done",
		Cause: "A request was answered before its scoring was done: the answer was remembered from an earlier request, or the scoring runs after the answer (in a goroutine of its own).",
	}, "max", 0, float64(unscored))
}

func TestResponsive(t *testing.T) {
	c := harness.Begin(t, "/health answers within one unit of CPU work while six users get recommendations")
	cpu := harness.CalibrateCPU(checkUnit)
	procs := runtime.GOMAXPROCS(0)
	bound := harness.Ms(checkUnit)
	var spans []harness.Span
	var probes, served, unanswered int
	var rs []harness.Result
	var rig *checkRig
	c.AtMost(harness.Quantity{
		What: fmt.Sprintf("/health, asked every 10 ms while %d requests to /recommend run, slowest time in the server", checkBusy),
		Unit: harness.Millis,
		Want: fmt.Sprintf("when the scoring runs off the loop, /health finds the loop free and answers in a few ms, however busy the %d cores are", procs),
		Cause: "The scoring runs on the loop: Score is called by an async handler outside c.RunInPool (or the handler waits on the loop for a goroutine that scores). " +
			"Each request holds the loop for its whole unit of CPU work, or, with c.Sleep(0) between products, for one slice of it per turn, and /health waits behind them.",
		// Correct code measures about 1 ms; code that scores on the loop
		// makes /health wait for several units (150 ms and more). A stall
		// of the busy machine can push a correct sample over the bound, so
		// a miss by up to 3× (150 ms) is measured again.
		Beyond: 2,
	}, bound, func() float64 {
		rig = checkServer(t, cpu)
		t0 := time.Now()
		done := make(chan []harness.Result, 1)
		go func() { done <- rig.load(t, t0, checkBusy) }() // exits when the load has finished (checkGiveUp at most)
		// A probe goes out every 10 ms, each on its own goroutine, so a
		// slow answer does not delay the next probe.
		var mu sync.Mutex
		var health []harness.Result
		var probing sync.WaitGroup
		tick := time.NewTicker(10 * time.Millisecond)
	probe:
		for i := 0; ; i++ {
			probing.Go(func() { // exits when the probe is answered (1 s at most)
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				h := harness.Get(ctx, t0, fmt.Sprintf("%s/health?probe=%d", rig.url, i), "/health")
				h.Outcome = "probe"
				mu.Lock()
				health = append(health, h)
				mu.Unlock()
			})
			select {
			case rs = <-done:
				break probe
			case <-tick.C:
			}
		}
		tick.Stop()
		probing.Wait()
		spans = append(harness.Spans(health), rig.b.rec.SpansFrom(t0)...)
		probes = len(health)
		unanswered = 0
		for _, h := range health {
			if h.Err != nil || h.Status != http.StatusOK {
				unanswered++
			}
		}
		worst, reached := rig.slowestHealth()
		served = reached
		return harness.Ms(worst)
	})
	c.Timeline(spans)
	checkReplies(c, rs)
	checkScored(c, rs, fmt.Sprintf("the %d requests to /recommend", checkBusy), rig)
	c.Note(fmt.Sprintf("%d /health probes were sent during the load and %d reached the server; %d got no answer within 1 s (a probe still waiting in the server counts with the time it had waited). One unit of CPU work is %d spin iterations on this machine, calibrated to %s on one idle core (GOMAXPROCS %d).",
		probes, served, unanswered, cpu.Iterations, harness.Format(harness.Millis, harness.Ms(checkUnit)), procs))
}

func TestAnswers(t *testing.T) {
	c := harness.Begin(t, "Six users at once all get their right three products")
	cpu := harness.CalibrateCPU(checkUnit)
	procs := runtime.GOMAXPROCS(0)
	const n = checkBusy
	rig := checkServer(t, cpu)
	t0 := time.Now()
	rs := rig.send(t, t0, n, false)
	c.Timeline(append(harness.Spans(rs), rig.b.rec.SpansFrom(t0)...))
	peak := rig.b.scoring.Peak()
	right := checkReplies(c, rs)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("requests to /recommend (%d at once) answered with the right three products", n),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("every user gets an answer within %v, and it is the three best-scored products", checkGiveUp),
		Cause: "See the first message: a request got no answer or a wrong one.",
	}, "min", n, float64(right))
	// A second round on the same app, once the first has been answered: u1
	// and u2 again. Code that remembers answers across requests, in the app
	// or in a package-level variable, answers them without scoring.
	rs2 := rig.load(t, time.Now(), 2)
	checkReplies(c, rs2)
	checkScored(c, append(slices.Clone(rs), rs2...), fmt.Sprintf("%d users, then u1 and u2 again", n), rig)
	// Throughput is reported, not judged: on two cores the pool can be at
	// most twice as fast as the loop, too little to judge reliably while
	// other processes compete for the same cores.
	work := float64(n) * harness.Ms(checkUnit)
	c.Note(fmt.Sprintf("The %d requests took %s in all. Their CPU work, %d units of %s, takes about %s on one idle core and %s on %d; the most Score calls running at the same moment: %d.",
		n, harness.Format(harness.Millis, harness.Ms(harness.Wall(rs))),
		n, harness.Format(harness.Millis, harness.Ms(checkUnit)), harness.Format(harness.Millis, work),
		harness.Format(harness.Millis, work/float64(min(procs, n))), procs,
		peak))
}

func TestInPool(t *testing.T) {
	c := harness.Begin(t, "Every Score call runs in a pool slot, none on the loop or beside the pool")
	c.Precondition(checkNoDetector, loop.VerifyInPoolSlot())
	cpu := harness.CalibrateCPU(checkUnit)
	rig := checkServer(t, cpu)
	t0 := time.Now()
	rs := rig.load(t, t0, checkBusy)
	c.Timeline(append(harness.Spans(rs), rig.b.rec.SpansFrom(t0)...))
	checkReplies(c, rs)
	b := rig.b
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Score calls made outside a pool slot, for %d requests to /recommend at once", checkBusy),
		Unit: harness.Count,
		Want: "CPU work belongs in the pool (c.RunInPool in an async handler, or app.Sync), where it runs off the loop, in parallel on every core, and within the pool's limit: 0 outside",
		Cause: "Score runs on the loop (directly, or between c.Sleep(0) calls, which still computes on the loop), or inside c.Await or a goroutine of your own. " +
			"c.Await stands for await: in Python, awaiting a coroutine that computes runs the computation on the loop itself, and a goroutine of your own escapes the pool's limit.",
	}, "max", 0, float64(b.outside.Load()))
	checkScored(c, rs, fmt.Sprintf("the %d requests to /recommend", checkBusy), rig)
	s := rig.app.Stats()
	c.Note(fmt.Sprintf("Score was called %d times (%d requests × %d products); the most running at the same moment was %d, and the loop counted at most %d of its %d pool slots in use.",
		b.calls.Load(), checkBusy, checkProducts, b.scoring.Peak(), s.PoolPeak, s.PoolSize))
}
