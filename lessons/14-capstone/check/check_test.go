//go:build tutorcheck

package capstone

// The hidden checks of lesson 14-capstone. Every check runs the same mixed
// load against a fresh app from New (a fresh process each), then judges one
// service-level objective, with the numbers in its message. Every top-level
// name here starts with "check" (lessons/README.md, Naming).

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
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

// The load and the dependencies' numbers, the same in every check.
const (
	checkUnit        = 50 * time.Millisecond  // CPU time of one report, alone on one core
	checkQuoteDelay  = 100 * time.Millisecond // one blocking call of the legacy pricing client
	checkFetchDelay  = 80 * time.Millisecond  // one catalogue call
	checkRefuseDelay = 10 * time.Millisecond  // one catalogue call answered 429
	checkLimit       = 4                      // the catalogue's limit in every check but DownstreamLimit
	checkLimitOther  = 3                      // the catalogue's limit in DownstreamLimit: not the usual one
	checkQuotes      = 8                      // /quote requests in the load
	checkSearches    = 5                      // /search requests in the load: more than the catalogue's limit
	checkItems       = 4                      // items per search
	checkProbeEvery  = 10 * time.Millisecond  // /health probes during the load
	checkGiveUp      = 5 * time.Second        // a request of the load stops waiting after this
	checkHoldGrace   = 300 * time.Millisecond // see checkDeps.hold
	checkHoldMax     = time.Second            // see checkDeps.hold
)

// checkReports is how many /report requests the load sends: one per core
// and one more, so that a limiter of GOMAXPROCS is full and one waits,
// while the CPU work stays short enough not to starve the load's I/O
// (two per core made /quote and /search wait for the scheduler).
func checkReports(procs int) int { return procs + 1 }

// checkHash is a fixed pseudo-random number for a salt and some words, so
// that every answer is known to the check and to nobody else.
func checkHash(salt uint32, words ...string) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, salt)
	for _, w := range words {
		fmt.Fprint(h, "/", w)
	}
	return h.Sum32()
}

// checkNewSalt is a number that differs in every check process, so that
// answers cannot be computed ahead or carried from one run to the next.
func checkNewSalt() uint32 { return uint32(time.Now().UnixNano()) | 1 }

// checkPrice, checkRisk and checkTitle are the dependencies' answers.
func checkPrice(salt uint32, symbol string) string {
	v := checkHash(salt, "quote", symbol) % 100000
	return fmt.Sprintf("%s %d.%02d", symbol, v/100, v%100)
}

func checkRisk(salt uint32, account string) string {
	return fmt.Sprintf("%s risk %d", account, checkHash(salt, "risk", account)%10000)
}

func checkTitle(salt uint32, id string) string {
	return fmt.Sprintf("%s:%04x", id, checkHash(salt, "title", id)%0x10000)
}

// checkDeps are the dependencies the checks pass to New. Each one counts
// its calls; Fetch is the catalogue, which counts the calls it sees at once
// and answers 429 beyond its limit.
type checkDeps struct {
	cpu   harness.CPUUnit
	limit int
	salt  uint32
	quit  *harness.Quit     // closed when the check stops listening: every call then returns at once
	rec   *harness.Recorder // one span per dependency call, for the timeline

	quotes, analyses, fetches atomic.Int64 // calls made
	quotesOutside             atomic.Int64 // Quote calls made outside a pool slot
	analysesInSlot            atomic.Int64 // Analyze calls made inside a pool slot
	analyzing                 harness.Gauge
	seen                      harness.Gauge // Fetch calls in progress, rejected ones included
	flight                    atomic.Int64  // the same count, for the catalogue's own decision
	rejected                  atomic.Int64  // Fetch calls answered 429
	fetched                   atomic.Int64  // Fetch calls answered with a title

	// hold, when above 0, is the number of reports the load sends, and
	// makes every Analyze call wait before it computes until all of them
	// are in Analyze at once, or until every one has reached the server and
	// checkHoldGrace has passed since the last (checkHoldMax at most). The
	// load sends one report more than GOMAXPROCS, so a limiter with room
	// for one computation too many then shows it every time, whatever order the scheduler
	// runs the reports in; a limiter of the right size waits out the grace
	// once. Set only for Cores' run with GOMAXPROCS lowered: with one P and
	// no wait, the second report sometimes reached Analyze only after the
	// first had finished, and a limiter of runtime.NumCPU() passed
	// (1 run in about 45).
	hold    int
	reports func() (n int, last time.Time) // /report requests that reached the server, and when the last did
}

// waitForCompany is the wait described at checkDeps.hold.
func (d *checkDeps) waitForCompany() {
	entered := time.Now()
	for d.analyzing.Now() < d.hold && !d.quit.Closed() && time.Since(entered) < checkHoldMax {
		if n, last := d.reports(); n >= d.hold && time.Since(last) >= checkHoldGrace {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (d *checkDeps) deps() Deps {
	return Deps{
		Limit: d.limit,
		Quote: func(symbol string) string {
			d.quotes.Add(1)
			if !loop.InPoolSlot() {
				d.quotesOutside.Add(1)
			}
			end := d.rec.Start("Quote " + symbol)
			t := time.NewTimer(checkQuoteDelay) // blocks its caller: no ctx, no channel to await
			select {
			case <-t.C:
				end("ok")
			case <-d.quit.Done():
				t.Stop()
				end("late")
			}
			return checkPrice(d.salt, symbol)
		},
		Analyze: func(account string) string {
			d.analyses.Add(1)
			if loop.InPoolSlot() {
				d.analysesInSlot.Add(1)
			}
			defer d.analyzing.Enter()()
			if d.hold > 0 {
				d.waitForCompany()
			}
			end := d.rec.Start("Analyze " + account)
			if d.quit.Closed() {
				end("late")
			} else {
				harness.Spin(d.cpu.Iterations)
				end("ok")
			}
			return checkRisk(d.salt, account)
		},
		Fetch: func(ctx context.Context, id string) (string, error) {
			d.fetches.Add(1)
			defer d.seen.Enter()()
			n := d.flight.Add(1)
			defer d.flight.Add(-1)
			if n > int64(d.limit) {
				// A refusal still takes a round trip: the call is seen, and
				// counted, while its 429 travels back.
				d.rejected.Add(1)
				end := d.rec.Start("Fetch " + id)
				t := time.NewTimer(checkRefuseDelay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				case <-d.quit.Done():
					t.Stop()
				}
				end("rejected")
				return "", fmt.Errorf("catalogue: 429 Too Many Requests for %s (%d calls at once, the limit is %d)", id, n, d.limit)
			}
			end := d.rec.Start("Fetch " + id)
			t := time.NewTimer(checkFetchDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				end("error")
				return "", fmt.Errorf("catalogue: %s: %w", id, ctx.Err())
			case <-d.quit.Done():
				end("late")
				return "", errors.New("catalogue: the check has stopped")
			}
			end("ok")
			d.fetched.Add(1)
			return checkTitle(d.salt, id), nil
		},
	}
}

// checkRig is a fresh app from New serving the checks' dependencies. It
// records how long each request spent inside the server, by path: the wait
// for the loop and the work, without the client's own costs.
type checkRig struct {
	d   *checkDeps
	app *loop.App
	url string

	mu      sync.Mutex
	times   map[string][]time.Duration // time inside the server, per finished request, by path
	inside  map[int64]checkInside      // requests inside the server now, by arrival number
	arrived int64
	reports int       // /report requests that reached the server
	lastIn  time.Time // when the last of them did
}

// checkInside is a request inside the server: its path and when it came in.
type checkInside struct {
	path string
	in   time.Time
}

// checkServer starts a rig whose catalogue accepts limit calls at once.
func checkServer(t *testing.T, cpu harness.CPUUnit, limit int, salt uint32) *checkRig {
	start := time.Now()
	d := &checkDeps{cpu: cpu, limit: limit, salt: salt, quit: harness.NewQuit(), rec: harness.NewRecorder(start)}
	r := &checkRig{d: d, app: New(d.deps()), times: map[string][]time.Duration{}, inside: map[int64]checkInside{}}
	if r.app == nil {
		t.Fatal("New returned nil: it must return the service's *loop.App")
	}
	d.reports = func() (int, time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.reports, r.lastIn
	}
	t.Cleanup(d.quit.Close) // runs before the server closes (cleanups run last-in, first-out)
	r.url = harness.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.arrived++
		id, in := r.arrived, time.Now()
		r.inside[id] = checkInside{req.URL.Path, in}
		if req.URL.Path == "/report" {
			r.reports++
			r.lastIn = in
		}
		r.mu.Unlock()
		r.app.ServeHTTP(w, req)
		r.mu.Lock()
		delete(r.inside, id)
		r.times[req.URL.Path] = append(r.times[req.URL.Path], time.Since(in))
		r.mu.Unlock()
	}))
	return r
}

// serverTimes returns the time each request to path spent in the server,
// from the moment it reached the server until the app had answered,
// counting those still inside with the time they have waited so far. It
// judges the server alone: a request slowed down on the client's side of a
// busy machine does not count against the service.
func (r *checkRig) serverTimes(path string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.times[path])
	for _, in := range r.inside {
		if in.path == path {
			out = append(out, time.Since(in.in))
		}
	}
	return out
}

// checkLoad is one run of the mixed load and what it measured.
type checkLoad struct {
	rig      *checkRig
	procs    int
	quotes   []harness.Result // /quote?symbol=S1…
	reports  []harness.Result // /report?account=A1…
	searches []harness.Result // /search?ids=…
	probes   []harness.Result // /health
	symbols  []string
	accounts []string
	ids      [][]string
	health   []time.Duration // time in the server, per /health request
	quoteIn  []time.Duration // per /quote request
	searchIn []time.Duration // per /search request
	spans    []harness.Span
}

// checkInputs are one load's inputs: symbols, accounts and search items,
// all distinct, named after round so that another round asks for other
// things.
func checkInputs(round string, procs int) (symbols, accounts []string, ids [][]string) {
	for i := range checkQuotes {
		symbols = append(symbols, fmt.Sprintf("%sS%d", round, i+1))
	}
	for i := range checkReports(procs) {
		accounts = append(accounts, fmt.Sprintf("%sacct-%d", round, i+1))
	}
	for s := range checkSearches {
		var items []string
		for i := range checkItems {
			items = append(items, fmt.Sprintf("%si%d-%d", round, s+1, i+1))
		}
		ids = append(ids, items)
	}
	return symbols, accounts, ids
}

// run sends the load: every /quote, /report and /search request at the
// same moment, and a /health probe every 10 ms until all of them have
// answered (or gave up after checkGiveUp). Then the dependencies stop
// working, so that a server still busy drains fast.
func (r *checkRig) run(t *testing.T, symbols, accounts []string, ids [][]string) *checkLoad {
	return r.send(t, true, symbols, accounts, ids)
}

// send is run; with stop false the dependencies keep working afterwards,
// so that the same app can take another load.
func (r *checkRig) send(t *testing.T, stop bool, symbols, accounts []string, ids [][]string) *checkLoad {
	l := &checkLoad{rig: r, procs: runtime.GOMAXPROCS(0), symbols: symbols, accounts: accounts, ids: ids,
		quotes: make([]harness.Result, len(symbols)), reports: make([]harness.Result, len(accounts)), searches: make([]harness.Result, len(ids))}
	ctx, cancel := context.WithTimeout(t.Context(), checkGiveUp)
	defer cancel()
	t0 := time.Now()
	start := make(chan struct{})
	var wg sync.WaitGroup
	get := func(out *harness.Result, path, label string) {
		wg.Go(func() { // ends when its request returns (checkGiveUp at most)
			<-start
			*out = harness.Get(ctx, t0, r.url+path, label)
		})
	}
	for i, s := range symbols {
		get(&l.quotes[i], "/quote?symbol="+s, "/quote "+s)
	}
	for i, a := range accounts {
		get(&l.reports[i], "/report?account="+a, "/report "+a)
	}
	for i, items := range ids {
		get(&l.searches[i], "/search?ids="+strings.Join(items, ","), fmt.Sprintf("/search %d", i+1))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }() // ends when every request has returned
	close(start)
	var mu sync.Mutex
	var probing sync.WaitGroup
	tick := time.NewTicker(checkProbeEvery)
probe:
	for i := 0; ; i++ {
		probing.Go(func() { // ends when the probe is answered (1 s at most)
			pctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			h := harness.Get(pctx, t0, fmt.Sprintf("%s/health?probe=%d", r.url, i), "/health")
			h.Outcome = "probe"
			mu.Lock()
			l.probes = append(l.probes, h)
			mu.Unlock()
		})
		select {
		case <-done:
			break probe
		case <-tick.C:
		}
	}
	tick.Stop()
	l.health = r.serverTimes("/health") // before the last probes finish: a probe stuck behind the loop counts with its wait
	l.quoteIn, l.searchIn = r.serverTimes("/quote"), r.serverTimes("/search")
	probing.Wait()
	if stop {
		r.d.quit.Close()
	}
	var spans []harness.Span
	for _, rs := range [][]harness.Result{l.quotes, l.reports, l.searches, l.probes} {
		spans = append(spans, harness.Spans(rs)...)
	}
	l.spans = append(spans, r.d.rec.SpansFrom(t0)...)
	return l
}

// checkMixed starts a fresh app and runs the load with fresh inputs.
func checkMixed(t *testing.T, cpu harness.CPUUnit, limit int, salt uint32) *checkLoad {
	symbols, accounts, ids := checkInputs("", runtime.GOMAXPROCS(0))
	return checkServer(t, cpu, limit, salt).run(t, symbols, accounts, ids)
}

// checkP95 is the 95th percentile of ds (nearest rank): the value that 95%
// of the requests beat or equal.
func checkP95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(0.95*float64(len(s))))-1]
}

// describe says in one sentence what the load was, for every check's note.
func (l *checkLoad) describe() string {
	return fmt.Sprintf("Load: %d quotes, %d reports, %d searches × %d items at once (catalogue limit %d), /health every 10 ms (%d probes); GOMAXPROCS %d.",
		len(l.quotes), len(l.reports), len(l.searches), checkItems, l.rig.d.limit, len(l.probes), l.procs)
}

// checkNot200 returns how many results were not 200, and one example.
func checkNot200(rs []harness.Result) (n int, example string) {
	for _, r := range rs {
		if r.Err == nil && r.Status == http.StatusOK {
			continue
		}
		if n == 0 {
			switch {
			case r.Err != nil:
				example = fmt.Sprintf("%s got no answer: %v", r.Label, r.Err)
			default:
				example = fmt.Sprintf("%s answered %d %q", r.Label, r.Status, strings.TrimSpace(r.Body))
			}
		}
		n++
	}
	return n, example
}

func TestResponsive(t *testing.T) {
	c := harness.Begin(t, "Responsive: /health p95 stays under one unit of CPU work during the mixed load")
	cpu := harness.CalibrateCPU(checkUnit)
	salt := checkNewSalt()
	var l *checkLoad
	c.AtMost(harness.Quantity{
		What:  "/health p95 during the mixed load, time in the server",
		Unit:  harness.Millis,
		Want:  "with nothing blocking or computing on the loop, /health finds it free and answers in about 1 ms",
		Cause: "Something holds the loop: a blocking call (Quote) or CPU work (Analyze) made directly in an async handler, or a wait on the loop for a goroutine that does it. Every request behind it waits, /health included.",
		// Correct code measures about 1 ms; a blocking call or CPU work on
		// the loop makes /health wait hundreds of ms. A stall of the busy
		// machine can push a correct sample over the bound, so a miss of
		// up to 3× is measured again.
		Beyond: 2,
	}, harness.Ms(checkUnit), func() float64 {
		l = checkMixed(t, cpu, checkLimit, salt)
		return harness.Ms(checkP95(l.health))
	})
	c.Timeline(l.spans)
	worst := slices.Max(append(l.health, 0))
	c.Note(fmt.Sprintf("The slowest /health took %s in the server. %s", harness.Format(harness.Millis, harness.Ms(worst)), l.describe()))
}

func TestQuoteLatency(t *testing.T) {
	c := harness.Begin(t, "QuoteLatency: /quote p95 within 4× the legacy client's 100 ms during the mixed load")
	cpu := harness.CalibrateCPU(checkUnit)
	salt := checkNewSalt()
	var l *checkLoad
	c.AtMost(harness.Quantity{
		What:  fmt.Sprintf("/quote p95 during the mixed load (%d requests at once), time in the server", checkQuotes),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("every quote waits for its own %v call at the same time as the others, so each takes about %v", checkQuoteDelay, checkQuoteDelay),
		Cause: "Quotes wait for each other: the blocking Quote call runs on the loop, so one quote at a time, or the loop is held by CPU work. A blocking call with no async version belongs in a pool slot.",
	}, 4*harness.Ms(checkQuoteDelay), func() float64 {
		l = checkMixed(t, cpu, checkLimit, salt)
		return harness.Ms(checkP95(l.quoteIn))
	})
	c.Timeline(l.spans)
	n, example := checkNot200(l.quotes)
	if n > 0 {
		c.Fail(fmt.Sprintf("%d of %d quotes did not answer 200; for example %s.", n, len(l.quotes), example))
	}
	c.Note(l.describe())
}

func TestSearchLatency(t *testing.T) {
	c := harness.Begin(t, "SearchLatency: /search p95 within 3× the time the catalogue's limit allows, during the mixed load")
	cpu := harness.CalibrateCPU(checkUnit)
	salt := checkNewSalt()
	calls := checkSearches * checkItems
	rounds := (calls + checkLimit - 1) / checkLimit
	ideal := time.Duration(rounds) * checkFetchDelay
	var l *checkLoad
	c.AtMost(harness.Quantity{
		What: fmt.Sprintf("/search p95 during the mixed load (%d searches × %d items at once), time in the server", checkSearches, checkItems),
		Unit: harness.Millis,
		Want: fmt.Sprintf("%d catalogue calls, %d at a time, take %d rounds of %v: about %v",
			calls, checkLimit, rounds, checkFetchDelay, ideal),
		Cause: "Searches wait for more than the catalogue: the loop is held by a blocking call or CPU work, so the searches' own turns on the loop come late, or fewer calls run at once than the catalogue accepts.",
	}, 3*harness.Ms(ideal), func() float64 {
		l = checkMixed(t, cpu, checkLimit, salt)
		return harness.Ms(checkP95(l.searchIn))
	})
	c.Timeline(l.spans)
	n, example := checkNot200(l.searches)
	if n > 0 {
		c.Fail(fmt.Sprintf("%d of %d searches did not answer 200; for example %s.", n, len(l.searches), example))
	}
	c.Note(fmt.Sprintf("At most %d catalogue calls ran at once. %s", l.rig.d.seen.Peak(), l.describe()))
}

func TestErrors(t *testing.T) {
	c := harness.Begin(t, "Errors: every request of the mixed load answers 200")
	cpu := harness.CalibrateCPU(checkUnit)
	l := checkMixed(t, cpu, checkLimit, checkNewSalt())
	c.Timeline(l.spans)
	all := slices.Concat(l.quotes, l.reports, l.searches, l.probes)
	n, example := checkNot200(all)
	d := l.rig.d
	cause := "A request failed or gave up."
	if d.rejected.Load() > 0 {
		cause = fmt.Sprintf("The catalogue answered 429 to %d of %d calls: more calls than its limit of %d ran at once, and each 429 made a search fail.", d.rejected.Load(), d.fetches.Load(), d.limit)
	}
	if example != "" {
		cause += " For example " + example + "."
	}
	c.Value(harness.Quantity{
		What:  "answers other than 200 in the mixed load",
		Unit:  harness.Count,
		Want:  "every request answers 200",
		Cause: cause,
	}, "max", 0, float64(n))
	c.Note(fmt.Sprintf("%d requests were sent, /health probes included. %s", len(all), l.describe()))
}

func TestDownstreamLimit(t *testing.T) {
	c := harness.Begin(t, "DownstreamLimit: the catalogue never sees more calls at once than its Limit")
	cpu := harness.CalibrateCPU(checkUnit)
	l := checkMixed(t, cpu, checkLimitOther, checkNewSalt())
	c.Timeline(l.spans)
	d := l.rig.d
	c.Value(harness.Quantity{
		What: fmt.Sprintf("catalogue calls at once, at most, counted by the catalogue (Deps.Limit is %d in this check)", d.limit),
		Unit: harness.Count,
		Want: fmt.Sprintf("one limiter of Deps.Limit slots, shared by every search, keeps the calls at %d or fewer", d.limit),
		Cause: fmt.Sprintf("The fan-out sends more than the catalogue accepts (%d of %d calls were answered 429): a goroutine per item with no limit, each search fetching its items one at a time (%d searches at once are %d calls), a limiter made anew for every request (%d searches at once have %d limiters), a limiter bigger than Deps.Limit, or a number written out instead of Deps.Limit.",
			d.rejected.Load(), d.fetches.Load(), checkSearches, checkSearches, checkSearches, checkSearches),
	}, "max", float64(d.limit), float64(d.seen.Peak()))
	c.Note(l.describe())
}

func TestCores(t *testing.T) {
	c := harness.Begin(t, "Cores: reports compute off the loop, on every core, at most GOMAXPROCS at once, outside the pool's I/O slots")
	c.Precondition("The check cannot tell pool slots from the loop with this loop package", loop.VerifyInPoolSlot())
	cpu := harness.CalibrateCPU(checkUnit)
	l := checkMixed(t, cpu, checkLimit, checkNewSalt())
	c.Timeline(l.spans)
	d := l.rig.d
	want := min(l.procs, len(l.reports))
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Analyze calls running at once, at most (%d reports at once, GOMAXPROCS %d)", len(l.reports), l.procs),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a limiter of runtime.GOMAXPROCS(0) slots, shared by every report, lets %d compute at once", l.procs),
		Cause: "More computations run at once than there are cores, so they share the cores and all finish late together: there is no limiter around Analyze, or it has more slots than GOMAXPROCS (the pool's 40 is not a CPU limit).",
	}, "max", float64(l.procs), float64(d.analyzing.Peak()))
	c.Value(harness.Quantity{
		What:  "Analyze calls running at once, at most, reaching the cores",
		Unit:  harness.Count,
		Want:  fmt.Sprintf("with %d reports waiting, every core computes one: %d at once", len(l.reports), want),
		Cause: "Reports compute one at a time: Analyze runs on the loop (directly in an async handler), or its limiter is smaller than GOMAXPROCS, so cores stand idle.",
	}, "min", float64(want), float64(d.analyzing.Peak()))
	c.Value(harness.Quantity{
		What:  "Analyze calls made in a pool slot (the I/O pool of sync routes and c.RunInPool)",
		Unit:  harness.Count,
		Want:  "CPU work waits for a core of its own, off the loop and outside the pool: 0 in a slot",
		Cause: "Reports take the pool's slots, which the blocking quotes need: a sync route or c.RunInPool around Analyze. The pool's slots count waiting calls; the cores count computations. Give CPU work its own limiter, taken inside c.Await.",
	}, "max", 0, float64(d.analysesInSlot.Load()))
	c.Note(fmt.Sprintf("Analyze was called %d times. One unit of CPU work is %d spin iterations, calibrated to %s on one idle core. %s",
		d.analyses.Load(), cpu.Iterations, harness.Format(harness.Millis, harness.Ms(checkUnit)), l.describe()))
	if l.procs < 2 {
		return
	}
	// Once more with GOMAXPROCS one lower, as a container's CPU limit
	// would set it: the limiter follows GOMAXPROCS, not the CPU count or
	// a number written out.
	fewer := l.procs - 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(fewer))
	rig := checkServer(t, cpu, checkLimit, checkNewSalt())
	symbols, accounts, ids := checkInputs("", fewer)
	rig.d.hold = len(accounts)
	l2 := rig.run(t, symbols, accounts, ids)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("with GOMAXPROCS set to %d, Analyze calls running at once, at most (%d reports at once)", fewer, len(l2.reports)),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the limiter is sized with runtime.GOMAXPROCS(0) when New runs, so %d compute at once", fewer),
		Cause: "The CPU limiter does not follow GOMAXPROCS: it is sized with runtime.NumCPU() or a number written out. GOMAXPROCS is what Go runs at once; a container's CPU limit lowers it (Go 1.25+), and so can the environment.",
	}, "max", float64(fewer), float64(l2.rig.d.analyzing.Peak()))
}

func TestQuotePool(t *testing.T) {
	c := harness.Begin(t, "QuotePool: every blocking Quote call runs in a pool slot")
	c.Precondition("The check cannot tell pool slots from the loop with this loop package", loop.VerifyInPoolSlot())
	cpu := harness.CalibrateCPU(checkUnit)
	l := checkMixed(t, cpu, checkLimit, checkNewSalt())
	c.Timeline(l.spans)
	d := l.rig.d
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Quote calls made outside a pool slot (%d quotes)", len(l.quotes)),
		Unit:  harness.Count,
		Want:  "a blocking call with no async version runs in a pool slot (app.Sync or c.RunInPool), as FastAPI runs a def route in its thread pool: 0 outside",
		Cause: "Quote runs on the loop, or inside c.Await or a goroutine of your own. c.Await stands for await: in Python, a blocking call inside async def blocks the loop even when awaited code surrounds it, and a goroutine of your own escapes the pool's limit.",
	}, "max", 0, float64(d.quotesOutside.Load()))
	c.Note(fmt.Sprintf("Quote was called %d times. %s", d.quotes.Load(), l.describe()))
}

// checkAnswers fails the check for the first wrong answer in l and returns
// how many answers were right, per route, and how many search items they
// carried.
func checkAnswers(c *harness.Check, l *checkLoad) (quotes, reports, searches, items int) {
	salt := l.rig.d.salt
	failed := false
	wrong := func(r harness.Result, want string) {
		if failed {
			return
		}
		failed = true
		if r.Err != nil {
			c.Fail(fmt.Sprintf("%s got no answer within %v: %v.", r.Label, checkGiveUp, r.Err))
			return
		}
		c.Fail(fmt.Sprintf("%s answered %d %q; it should answer 200 %q.", r.Label, r.Status, strings.TrimSpace(r.Body), want))
	}
	for i, r := range l.quotes {
		if want := checkPrice(salt, l.symbols[i]); r.Err == nil && r.Status == http.StatusOK && r.Body == want {
			quotes++
		} else {
			wrong(r, want)
		}
	}
	for i, r := range l.reports {
		if want := checkRisk(salt, l.accounts[i]); r.Err == nil && r.Status == http.StatusOK && r.Body == want {
			reports++
		} else {
			wrong(r, want)
		}
	}
	for i, r := range l.searches {
		titles := make([]string, len(l.ids[i]))
		for j, id := range l.ids[i] {
			titles[j] = checkTitle(salt, id)
		}
		if want := strings.Join(titles, ","); r.Err == nil && r.Status == http.StatusOK && r.Body == want {
			searches++
			items += len(titles)
		} else {
			wrong(r, want+" (every item's title, in the order asked)")
		}
	}
	return quotes, reports, searches, items
}

func TestAnswers(t *testing.T) {
	c := harness.Begin(t, "Answers: every answer is right, complete, in order, and computed for its own request")
	cpu := harness.CalibrateCPU(checkUnit)
	salt := checkNewSalt()
	procs := runtime.GOMAXPROCS(0)
	symbols, accounts, ids := checkInputs("", procs)
	rig := checkServer(t, cpu, checkLimit, salt)
	first := rig.send(t, false, symbols, accounts, ids)
	c.Timeline(first.spans)
	q1, r1, s1, i1 := checkAnswers(c, first)
	// A second round on the same app, once the first has answered: two of
	// each request again, and two new ones. Code that remembers answers
	// across requests, in the app or in a package-level variable, answers
	// the repeats without calling the dependencies.
	again := rig.run(t,
		append(slices.Clone(symbols[:2]), "xS1", "xS2"),
		append(slices.Clone(accounts[:2]), "xacct-1", "xacct-2"),
		append(slices.Clone(ids[:2]), []string{"xi1-1", "xi1-2", "xi1-3"}, []string{"xi2-1", "xi2-2", "xi2-3"}))
	q2, r2, s2, i2 := checkAnswers(c, again)
	total := len(first.quotes) + len(first.reports) + len(first.searches) + len(again.quotes) + len(again.reports) + len(again.searches)
	right := q1 + r1 + s1 + q2 + r2 + s2
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("requests answered right (%d, then 12 more to the same app)", total-12),
		Unit:  harness.Count,
		Want:  "every quote, report and search answers what its dependency said, searches with every title in the order asked",
		Cause: "See the first message: a request got no answer or a wrong one.",
	}, "min", float64(total), float64(right))
	d := rig.d
	calls := func(what string, got, want int64) {
		c.Value(harness.Quantity{
			What:  fmt.Sprintf("%s calls for %d right answers", what, want),
			Unit:  harness.Count,
			Want:  "every request calls its dependency itself, so there is at least one call per answer",
			Cause: "Requests were answered without calling the dependency: the answer was remembered from an earlier request (in a map of the app or a package-level variable) or made up. Every request must do its own work.",
		}, "min", float64(want), float64(got))
	}
	calls("Quote", d.quotes.Load(), int64(q1+q2))
	calls("Analyze", d.analyses.Load(), int64(r1+r2))
	calls("Fetch (answered with a title)", d.fetched.Load(), int64(i1+i2))
	c.Note(first.describe())
}
