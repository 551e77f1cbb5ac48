//go:build tutorcheck

package measure

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The experiment: a hidden server whose handler takes checkHandlerTime, and the
// learner's Fire sending it n requests at once.
const (
	checkRequests    = 10
	checkHandlerTime = 100 * time.Millisecond
	// checkFireLimit is how long Fire may take before the check gives up on it.
	// One request at a time takes n × checkHandlerTime = 1 s.
	checkFireLimit = harness.Deadline
	// checkSpanSlack is how far the learner's spans may lie from the server's.
	// Correct code measures 1–10 ms; on a starved 2-core machine a shared
	// stall can add 30 ms to every request. Mistakes measure 100 ms or more:
	// a Start taken after the response came, or requests queued in the client
	// (about n × checkHandlerTime / 2).
	checkSpanSlack = 40 * time.Millisecond
	// checkSettleTime is how long the leak check waits for connections and
	// goroutines to go away after the server hangs up.
	checkSettleTime = time.Second
	// checkFastTime is the handler time of the quick requests in a mixed
	// experiment: half the requests, chosen at random by arrival order,
	// take checkFastTime and the other half checkHandlerTime. Spans that Fire really
	// measured show the two groups; spans made up after the fact do not.
	checkFastTime = 20 * time.Millisecond
	// checkSlowFrom splits the server's spans of a mixed experiment into quick
	// and slow ones: halfway between the two handler times.
	checkSlowFrom = (checkFastTime + checkHandlerTime) / 2
)

// checkRun is one experiment, seen from both ends.
type checkRun struct {
	wall     time.Duration  // how long Fire took, timed by the check
	spans    []Span         // what Fire returned
	client   []harness.Span // spans, relative to t0 (bad spans left out)
	server   []harness.Span // handler entry to exit, relative to t0, in the order they ended
	answered int            // requests the server had answered when Fire returned
	peak     int            // most requests inside the handler at one moment
	leaked   int            // goroutines left after the server hung up (only with leaks)
}

// checkSetup says how an experiment runs.
type checkSetup struct {
	leaks bool // have the server hang up afterwards and count the goroutines left
	mixed bool // half the requests, at random, take checkFastTime instead of checkHandlerTime
}

// checkExperiment starts a fresh server, calls Fire(url, n) once and records
// what both sides saw.
func checkExperiment(t *testing.T, c *harness.Check, how checkSetup) checkRun {
	t.Helper()
	delays := make([]time.Duration, checkRequests)
	for i := range delays {
		delays[i] = checkHandlerTime
		if how.mixed && i < checkRequests/2 {
			delays[i] = checkFastTime
		}
	}
	rand.Shuffle(checkRequests, func(i, j int) { delays[i], delays[j] = delays[j], delays[i] })
	t0 := time.Now()
	rec := harness.NewRecorder(t0)
	var gauge harness.Gauge
	var arrivals atomic.Int64
	srv := httptest.NewServer(gauge.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := arrivals.Add(1)
		d := checkHandlerTime
		if k <= checkRequests {
			d = delays[k-1]
		}
		end := rec.Start(fmt.Sprintf("server %d", k))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		// Recorded before the response is written: a client that has the
		// response has it after this moment.
		end("ok")
		fmt.Fprintln(w, "ok")
	})))
	// Hanging up first means Close never waits on a connection the client
	// left half-used.
	defer func() { srv.CloseClientConnections(); srv.Close() }()
	before := runtime.NumGoroutine()

	type fired struct {
		spans []Span
		wall  time.Duration
	}
	done := make(chan fired, 1)
	// Exits when Fire returns; if Fire never returns, the test binary's
	// exit ends it (the check has already failed by then).
	go func() {
		start := time.Now()
		spans := Fire(srv.URL, checkRequests)
		done <- fired{spans, time.Since(start)}
	}()
	var f fired
	select {
	case f = <-done:
	case <-time.After(checkFireLimit):
		c.Fatal(fmt.Sprintf("Fire(url, %d) did not return within %s. With requests that take %s each it should return after about %s; "+
			"make sure Fire waits for exactly %d requests and nothing else.", checkRequests, checkMs(checkFireLimit), checkMs(checkHandlerTime), checkMs(checkHandlerTime), checkRequests))
	}
	r := checkRun{wall: f.wall, spans: f.spans, server: rec.Spans(), peak: gauge.Peak()}
	r.answered = len(r.server)
	for i, s := range f.spans {
		if s.Start.IsZero() || s.End.IsZero() || !s.End.After(s.Start) {
			continue
		}
		outcome := "ok"
		if s.Err != nil {
			outcome = "error"
		}
		r.client = append(r.client, harness.Span{Label: fmt.Sprintf("Fire %d", i+1), Start: s.Start.Sub(t0), End: s.End.Sub(t0), Outcome: outcome})
	}
	if how.leaks {
		// A connection whose response body was never closed stays checked
		// out of the client's pool; hanging up from the server's side ends
		// every other one.
		srv.CloseClientConnections()
		left := harness.Goroutines(before, checkSettleTime)
		r.leaked = max(0, left-before)
	}
	c.Timeline(append(slices.Clone(r.client), r.server...))
	return r
}

// checkSampler returns a measure function for c.AtMost/c.AtLeast that reports
// first's value on its first call and runs a new experiment on each later
// call (made when the first sample lands near the bound).
func checkSampler(t *testing.T, c *harness.Check, how checkSetup, first checkRun, value func(checkRun) float64) func() float64 {
	used := false
	return func() float64 {
		if !used {
			used = true
			return value(first)
		}
		return value(checkExperiment(t, c, how))
	}
}

// checkMs prints a duration the way the harness prints measurements: "100 ms".
func checkMs(d time.Duration) string { return harness.Format(harness.Millis, harness.Ms(d)) }

// checkCause names the likeliest reason Fire was slow: the server saw the
// requests one at a time because Fire itself started them apart, or because
// the HTTP client held back requests that Fire had started together.
func checkCause(r checkRun) string {
	if r.peak >= checkRequests {
		return fmt.Sprintf("The server did hold all %d requests at once, so Fire returned late for another reason: it should wait for the %d requests and nothing else.", checkRequests, checkRequests)
	}
	if len(r.client) < 2 {
		return fmt.Sprintf("Fire returned %d usable spans (a Start, and an End after it) for %d requests: "+
			"it must start every request, then wait until all of them have finished before it returns.", len(r.client), checkRequests)
	}
	first, last := r.client[0].Start, r.client[0].Start
	for _, s := range r.client {
		first, last = min(first, s.Start), max(last, s.Start)
	}
	if last-first < checkHandlerTime/2 {
		return fmt.Sprintf("Your spans all start within %s of each other, so Fire did start the requests together, "+
			"but the server never held more than %d of them at once: the HTTP client queued the rest. "+
			"Look at the client's Transport (MaxConnsPerHost): one HTTP/1.1 connection carries one request at a time.",
			checkMs(last-first), r.peak)
	}
	return fmt.Sprintf("Your spans start %s apart from first to last, so Fire started each request only after an earlier one came back: "+
		"look for a loop, or a goroutine, that waits for a response before the next request starts.",
		checkMs(last-first))
}

// TestAllAtOnce counts the requests inside the server at the same moment.
// A count does not wobble: a correct Fire gets all n requests to the server
// within a few ms, far inside the handler's 100 ms.
func TestAllAtOnce(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("All %d requests are inside the server at the same moment", checkRequests))
	r := checkExperiment(t, c, checkSetup{})
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Most requests the server was handling at one moment, out of %d", checkRequests),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("when Fire sends all %d at once, the server holds all %d together for %s", checkRequests, checkRequests, checkMs(checkHandlerTime)),
		Cause: checkCause(r),
	}, "min", checkRequests, float64(r.peak))
}

// TestTotalTime times Fire from the outside.
func TestTotalTime(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("%d requests of %s each take about %s in total", checkRequests, checkMs(checkHandlerTime), checkMs(checkHandlerTime)))
	first := checkExperiment(t, c, checkSetup{})
	c.AtMost(harness.Quantity{
		What:  fmt.Sprintf("Fire(url, %d) against a %s handler took", checkRequests, checkMs(checkHandlerTime)),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("requests sent together finish together, in about %s; one at a time takes %s", checkMs(checkHandlerTime), checkMs(checkRequests*checkHandlerTime)),
		Cause: checkCause(first),
	}, harness.Ms(3*checkHandlerTime), checkSampler(t, c, checkSetup{}, first, func(r checkRun) float64 { return harness.Ms(r.wall) }))
}

// checkGap measures how far the spans Fire returned lie from the spans the
// server recorded. The requests all go to the same URL, so the check cannot
// tell which client span belongs to which server span; it compares the k-th
// earliest start on each side, and the k-th earliest end (if every request
// can be paired within some distance, these sorted lists are within that
// distance too). It returns the median of the start gaps or of the end gaps,
// whichever is larger: a mistake shifts most spans, while a scheduling
// hiccup on a busy machine shifts one or two.
func checkGap(r checkRun) time.Duration {
	cs, ce := checkStarts(r.client), checkEnds(r.client)
	ss, se := checkStarts(r.server), checkEnds(r.server)
	k := min(len(cs), len(ss))
	sg, eg := make([]time.Duration, k), make([]time.Duration, k)
	for i := range k {
		sg[i], eg[i] = (ss[i] - cs[i]).Abs(), (ce[i] - se[i]).Abs()
	}
	return max(checkMedianOf(sg), checkMedianOf(eg))
}

func checkMedianOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return (d[(len(d)-1)/2] + d[len(d)/2]) / 2
}

func checkStarts(spans []harness.Span) []time.Duration {
	out := make([]time.Duration, len(spans))
	for i, s := range spans {
		out[i] = s.Start
	}
	slices.Sort(out)
	return out
}

func checkEnds(spans []harness.Span) []time.Duration {
	out := make([]time.Duration, len(spans))
	for i, s := range spans {
		out[i] = s.End
	}
	slices.Sort(out)
	return out
}

// checkImpossible counts the spans that Fire could not have measured: paired in
// order with the server's (k-th earliest start with k-th earliest start,
// k-th earliest end with k-th earliest end), a span that starts after the
// server received its request or ends before the server answered it. The
// clock is the same on both sides, so a busy machine can only make a real
// span start earlier and end later; only made-up numbers break this.
func checkImpossible(r checkRun) int {
	cs, ce := checkStarts(r.client), checkEnds(r.client)
	ss, se := checkStarts(r.server), checkEnds(r.server)
	bad := 0
	for i := range min(len(cs), len(ss)) {
		if cs[i] > ss[i] || ce[i] < se[i] {
			bad++
		}
	}
	return bad
}

// checkBeforeSlow counts, in a mixed experiment, the quick requests and the
// spans of Fire that ended before the server answered its first slow
// request. Fire that really measures each request sees the quick ones end
// about 80 ms before that; spans made up once every request is done all end
// after it.
func checkBeforeSlow(r checkRun) (quick, early int) {
	firstSlow := time.Duration(-1)
	for _, s := range r.server {
		if s.End-s.Start < checkSlowFrom {
			quick++
		} else if firstSlow < 0 || s.End < firstSlow {
			firstSlow = s.End
		}
	}
	for _, s := range r.client {
		if firstSlow >= 0 && s.End < firstSlow {
			early++
		}
	}
	return quick, early
}

// TestSpansMatchServer compares Fire's spans with the handler's own. Half
// the requests, chosen at random, take 20 ms instead of 100 ms, so spans
// that Fire did not really measure cannot match.
func TestSpansMatchServer(t *testing.T) {
	c := harness.Begin(t, "The spans Fire returns match what the server saw")
	how := checkSetup{mixed: true}
	first := checkExperiment(t, c, how)
	if first.answered < checkRequests {
		c.Fatal(fmt.Sprintf("Fire returned when the server had answered %d of its %d requests: the spans of the others cannot have an End yet. "+
			"Fire must wait until every response has been read, and take each End then.", first.answered, checkRequests))
	}
	if len(first.client) != len(first.server) {
		c.Fatal(fmt.Sprintf("Fire returned %d usable spans (a Start, and an End after it) but the server answered %d requests, so the spans cannot be compared; "+
			"Fire must return one Span per request it sent.", len(first.client), len(first.server)))
	}
	c.Value(harness.Quantity{
		What: "Spans that start after the server received their request, or end before the server answered it (paired in order)",
		Unit: harness.Count,
		Want: "a span measured by Fire starts before its request reaches the server and ends after the answer arrived",
		Cause: "These spans were not measured: their times were made up or copied. Take Start with time.Now() right before sending each request, " +
			"and End with time.Now() after reading its body, in the goroutine that sent it.",
	}, "max", 0, float64(checkImpossible(first)))
	quick, _ := checkBeforeSlow(first)
	c.AtLeast(harness.Quantity{
		What: fmt.Sprintf("Your spans that ended before the server answered its first %s request (it answered %d requests in %s)", checkMs(checkHandlerTime), quick, checkMs(checkFastTime)),
		Unit: harness.Count,
		Want: fmt.Sprintf("the %d quick requests end about %s before the slow ones, and spans measured request by request show it", quick, checkMs(checkHandlerTime-checkFastTime)),
		Cause: "Your spans all end together, after the last answer: End was taken once everything had finished (or made up), not when each request's body had been read. " +
			"Take End in the goroutine that sent the request, right after reading and closing its body.",
		// Correct code counts all the quick requests (5), spans made up
		// after the last answer 0. A stalled client can miss a few: 1 or 2
		// is measured again (Beyond), 3 or more passes at once (Band).
		Band:   0.5,
		Beyond: 3,
	}, float64(checkRequests/2-3), checkSampler(t, c, how, first, func(r checkRun) float64 {
		// A machine that stalls the server makes its quick requests slow
		// too, and then no span can end before the first slow answer. That
		// sample says nothing about Fire: run the experiment again (at most
		// twice). The server's own count decides, so Fire cannot cause it.
		for range 2 {
			if q, _ := checkBeforeSlow(r); q >= 3 {
				break
			}
			r = checkExperiment(t, c, how)
		}
		_, early := checkBeforeSlow(r)
		return float64(early)
	}))
	c.AtMost(harness.Quantity{
		What: "Typical gap between your spans and the server's (median over the requests; starts compared with starts, ends with ends)",
		Unit: harness.Millis,
		Want: "a span that starts just before the request is sent and ends after its body is read lies within a few ms of the server's view",
		Cause: "Take Start right before sending the request and End right after reading and closing the body. " +
			"If the starts disagree and the server's bars form a staircase, the requests waited inside the HTTP client: your spans include that wait.",
		// Correct code measures about 3 ms, wrong code 100 ms or more: any
		// sample up to 3× the bound (seen: 85 ms at load 8) is measured
		// again and judged on the median.
		Band: 2,
	}, harness.Ms(checkSpanSlack), checkSampler(t, c, how, first, func(r checkRun) float64 { return harness.Ms(checkGap(r)) }))
}

// TestOneSpanPerRequest checks the shape of what Fire returns.
func TestOneSpanPerRequest(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("Fire returns %d spans, each one ending after it starts", checkRequests))
	r := checkExperiment(t, c, checkSetup{})
	if len(r.spans) != checkRequests {
		c.Fail(fmt.Sprintf("Fire(url, %d) returned %d spans; it must return exactly one per request: %d.", checkRequests, len(r.spans), checkRequests))
	}
	var bad, failed int
	var firstErr error
	for _, s := range r.spans {
		switch {
		case s.Start.IsZero() || s.End.IsZero() || !s.End.After(s.Start):
			bad++
		case s.Err != nil:
			failed++
			if firstErr == nil {
				firstErr = s.Err
			}
		}
	}
	c.Value(harness.Quantity{
		What:  "Spans with no Start, no End, or an End that is not after Start",
		Unit:  harness.Count,
		Want:  "every span starts when its request is sent and ends after its response is read",
		Cause: "Set Start with time.Now() before sending and End with time.Now() after reading the body, in the same goroutine as the request.",
	}, "max", 0, float64(bad))
	why := "Every request to the check's server should succeed."
	if firstErr != nil {
		why = fmt.Sprintf("The first error: %v.", firstErr)
	}
	c.Value(harness.Quantity{
		What:  "Spans that carry an error",
		Unit:  harness.Count,
		Want:  "the check's server answers every request with 200 OK, so no span has an error",
		Cause: why,
	}, "max", 0, float64(failed))
}

// TestNothingLeftOpen counts what Fire leaves behind.
func TestNothingLeftOpen(t *testing.T) {
	c := harness.Begin(t, "Fire leaves nothing running: every response body is closed")
	r := checkExperiment(t, c, checkSetup{leaks: true})
	c.Value(harness.Quantity{
		What: fmt.Sprintf("Goroutines still running %s after Fire returned and the server hung up", checkMs(checkSettleTime)),
		Unit: harness.Count,
		Want: "with every response body closed, the client lets each connection go and nothing is left",
		Cause: fmt.Sprintf("Close every response body (resp.Body.Close()), even when you don't need it: "+
			"an unclosed body keeps its connection and two of the client's goroutines alive; %d requests leave %d behind.", checkRequests, 2*checkRequests),
	}, "max", 2, float64(r.leaked))
}
