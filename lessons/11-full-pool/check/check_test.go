//go:build tutorcheck

package quote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The contract the checks hold Handler to.
const (
	checkSlots   = 4                       // backend calls at once
	checkService = 100 * time.Millisecond  // one backend call
	checkBudget  = 450 * time.Millisecond  // every request answered within this of its arrival
	checkSlack   = 50 * time.Millisecond   // forgiven beyond the budget: timer and scheduling slack on a busy machine
	checkBurst   = 120                     // requests sent at once in the overload
	checkStallN  = 40                      // requests sent at once while the backend stalls
	checkStall   = 400 * time.Millisecond  // how long the first calls take while the backend stalls
	checkWorkN   = 6                       // requests in each round of Work: the pool serves them well within the budget
	checkGiveUp  = 1200 * time.Millisecond // clients stop waiting after this; the budget is long gone

	checkMinFast   = 20 // fast rejections required of the overload (correct code: about 100)
	checkMaxHeld   = 28 // requests waiting for a slot at once (correct code: up to 14)
	checkMinServed = 8  // early arrivals answered with a price (correct code: about 16; no queue: 4)
)

// checkLimits is what the checks pass to Handler.
var checkLimits = Limits{Slots: checkSlots, Budget: checkBudget, Service: checkService}

// checkKey marks the context of a request the checks sent, so the backend
// knows which request a call is for.
type checkKey struct{}

// checkCall is one backend call.
type checkCall struct {
	start, end time.Duration
	answer     string
	cut        bool // ctx was done before the call finished
}

// checkReq is one request as the server saw it.
type checkReq struct {
	id        int
	arrival   time.Duration // reached the learner's handler
	answered  time.Duration // the learner's handler returned
	done      bool
	status    int
	retry     string // the Retry-After header, "" if none
	hasRetry  bool
	body      string
	waiting   bool // in the handler, not yet calling the backend
	gone      bool // its client had given up when the handler returned
	calls     []checkCall
	endsSeen  int // calls that ended (anywhere) before this request was answered
	endsAtArr int // calls that had ended when it arrived
}

// checkLab is the server side of a check: it wraps the learner's handler,
// plays the pricing backend, and records everything.
type checkLab struct {
	t0    time.Time
	nonce string

	mu          sync.Mutex
	reqs        []*checkReq
	held        int // requests in the handler, not calling the backend
	heldAtEnds  int // the most requests held when a call ended
	calling     int
	peakCalling int
	calls       int
	noCtx       int // calls without a request's context
	ends        int // calls that ended, cut or not
	firstEnd    time.Duration
	stallLeft   int // calls still to stall
}

func checkNewLab(stalls int) *checkLab {
	b := make([]byte, 4)
	rand.Read(b)
	return &checkLab{t0: time.Now(), nonce: hex.EncodeToString(b), stallLeft: stalls}
}

func (l *checkLab) since() time.Duration { return time.Since(l.t0) }

// backend is the pricing service: each call takes checkService (or
// checkStall while the backend stalls), stops when ctx is done, and
// answers a price no other call answers.
func (l *checkLab) backend(ctx context.Context) (string, error) {
	req, _ := ctx.Value(checkKey{}).(*checkReq)
	l.mu.Lock()
	l.calls++
	n := l.calls
	if req == nil {
		l.noCtx++
	} else if req.waiting {
		req.waiting = false
		l.held--
	}
	l.calling++
	l.peakCalling = max(l.peakCalling, l.calling)
	d := checkService
	if l.stallLeft > 0 {
		l.stallLeft--
		d = checkStall
	}
	call := checkCall{start: l.since(), answer: fmt.Sprintf("%d.%02d EUR (quote %s-%d)", 10+n%90, n%100, l.nonce, n)}
	l.mu.Unlock()

	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		call.cut = true
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.calling--
	l.ends++
	call.end = l.since()
	if l.firstEnd == 0 && !call.cut {
		l.firstEnd = call.end
		l.heldAtEnds = max(l.heldAtEnds, l.held)
	} else {
		l.heldAtEnds = max(l.heldAtEnds, l.held)
	}
	if req != nil {
		req.calls = append(req.calls, call)
	}
	if call.cut {
		return "", ctx.Err()
	}
	return call.answer, nil
}

// checkWriter records what the learner's handler answers.
type checkWriter struct {
	http.ResponseWriter
	status   int
	retry    string // Retry-After as sent: headers set after the status are not
	hasRetry bool
	body     strings.Builder
}

func (w *checkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.retry = w.Header().Get("Retry-After")
		_, w.hasRetry = w.Header()["Retry-After"]
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *checkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.body.Len() < 4<<10 {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// wrap serves h, recording each request's arrival, answer and calls.
func (l *checkLab) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		req := &checkReq{id: len(l.reqs) + 1, arrival: l.since(), waiting: true, endsAtArr: l.ends}
		l.reqs = append(l.reqs, req)
		l.held++
		l.mu.Unlock()

		cw := &checkWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), checkKey{}, req)))

		l.mu.Lock()
		defer l.mu.Unlock()
		if req.waiting {
			req.waiting = false
			l.held--
		}
		req.answered = l.since()
		req.done = true
		req.gone = r.Context().Err() != nil
		req.endsSeen = l.ends
		if cw.status == 0 {
			cw.WriteHeader(http.StatusOK) // what net/http answers for a handler that writes nothing
		}
		req.status, req.retry, req.hasRetry = cw.status, cw.retry, cw.hasRetry
		req.body = cw.body.String()
	})
}

// run sends n requests at once to a fresh Handler and waits for every
// answer; it returns the requests as the server saw them, in arrival order.
func (l *checkLab) run(t *testing.T, c *harness.Check, n int) []*checkReq {
	t.Helper()
	url := harness.Serve(t, l.wrap(Handler(l.backend, checkLimits)))
	// Clients stop waiting long after the budget: a request still held
	// then is late whatever happens next, and the backend returns at once
	// for a request whose client has gone, so the check need not wait
	// for a queue of seconds to drain.
	ctx, cancel := context.WithTimeout(context.Background(), checkGiveUp)
	defer cancel()
	harness.Fire(ctx, l.t0, url+"/quote", n, "request")
	if !harness.WaitUntil(harness.Deadline, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.reqs) < n {
			return false
		}
		for _, r := range l.reqs {
			if !r.done {
				return false
			}
		}
		return true
	}) {
		c.Fatal(fmt.Sprintf("%d requests were sent, and not all of them were answered within %s: the handler still holds some.", n, harness.Deadline))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.reqs)
	slices.SortFunc(out, func(a, b *checkReq) int { return int(a.arrival - b.arrival) })
	return out
}

// served reports whether r was answered 200 with the price of a call made
// for it, that call being its only one.
func (r *checkReq) served() bool {
	return r.status == http.StatusOK && len(r.calls) == 1 && !r.calls[0].cut && r.body == r.calls[0].answer
}

// late reports whether r was answered after its budget and the slack.
func (r *checkReq) late() bool { return r.answered-r.arrival > checkBudget+checkSlack }

// timeline draws one bar per request, from arrival to answer.
func (l *checkLab) timeline(c *harness.Check, reqs []*checkReq) {
	spans := make([]harness.Span, 0, len(reqs))
	for i, r := range reqs {
		outcome := "error"
		switch {
		case r.late():
			outcome = "late"
		case r.served():
			outcome = "ok"
		case r.status == http.StatusServiceUnavailable:
			outcome = "rejected"
		}
		spans = append(spans, harness.Span{Label: fmt.Sprintf("request %d", i+1), Start: r.arrival, End: r.answered, Outcome: outcome})
	}
	c.Timeline(spans)
}

// checkSummary describes a run in one sentence, for every message.
func checkSummary(reqs []*checkReq) string {
	var served, rejected, other, late, gone int
	var slowest time.Duration
	for _, r := range reqs {
		switch {
		case r.gone:
			gone++
		case r.served():
			served++
		case r.status == http.StatusServiceUnavailable:
			rejected++
		default:
			other++
		}
		if r.late() {
			late++
		}
		slowest = max(slowest, r.answered-r.arrival)
	}
	s := fmt.Sprintf("Of %d requests, %d were answered with a price, %d with 503", len(reqs), served, rejected)
	if other > 0 {
		s += fmt.Sprintf(", %d otherwise", other)
	}
	s += fmt.Sprintf("; %d after the budget", late)
	if gone > 0 {
		return s + fmt.Sprintf("; %d were still waiting when the clients gave up, %.1f s after sending.", gone, checkGiveUp.Seconds())
	}
	return s + fmt.Sprintf("; the slowest answer took %.0f ms.", harness.Ms(slowest))
}

func TestWork(t *testing.T) {
	c := harness.Begin(t, "Every request the pool can serve in time gets the backend's price for its own call")
	var bad []string
	served, calls, noCtx := 0, 0, 0
	var all []*checkReq
	for round := range 2 { // the second round is a fresh Handler: nothing carries over
		l := checkNewLab(0)
		reqs := l.run(t, c, checkWorkN)
		all = append(all, reqs...)
		l.mu.Lock()
		calls += l.calls
		noCtx += l.noCtx
		l.mu.Unlock()
		for i, r := range reqs {
			if r.served() {
				served++
				continue
			}
			if len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("round %d, request %d: %d %q after %d backend calls", round+1, i+1, r.status, checkShort(r.body), len(r.calls)))
			}
		}
		if round == 0 {
			l.timeline(c, reqs)
		}
	}
	want := 2 * checkWorkN
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests in two rounds of %d at once (%d slots, calls of %.0f ms, budget %.0f ms), answered 200 with the price of the one backend call made for them", want, checkWorkN, checkSlots, harness.Ms(checkService), harness.Ms(checkBudget)),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("every one of them: %d slots serve %d requests in two rounds of calls, well within the budget", checkSlots, checkWorkN),
		Cause: "Call the backend once for each request and answer its price, byte for byte: a price kept from an earlier request, or made up, is not this request's answer; and do not turn away a request the pool can serve in time.",
	}, "min", float64(want), float64(served))
	c.Value(harness.Quantity{
		What:  "backend calls made without the request's context",
		Unit:  harness.Count,
		Want:  "none: pass the backend r.Context(), or a context derived from it",
		Cause: "The backend needs the request's context, so that it stops when the client goes away or the deadline passes.",
	}, "max", 0, float64(noCtx))
	if len(bad) > 0 {
		c.Note("For example: " + strings.Join(bad, "; ") + fmt.Sprintf(". The backend was called %d times in all.", calls))
	}
}

// checkShort shortens a body for a message.
func checkShort(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// checkOverload runs the overload: checkBurst requests at once.
func checkOverload(t *testing.T, c *harness.Check) (*checkLab, []*checkReq) {
	t.Helper()
	l := checkNewLab(0)
	reqs := l.run(t, c, checkBurst)
	l.timeline(c, reqs)
	c.Note(checkSummary(reqs))
	return l, reqs
}

func TestSlots(t *testing.T) {
	c := harness.Begin(t, "At most Slots backend calls run at once")
	l, _ := checkOverload(t, c)
	l.mu.Lock()
	peak := l.peakCalling
	l.mu.Unlock()
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once: the most backend calls running at the same time", checkBurst),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("at most %d, the pool's slots", checkSlots),
		Cause: "Every backend call must hold a slot from before it starts until it has returned.",
	}, "max", checkSlots, float64(peak))
}

func TestOnTime(t *testing.T) {
	c := harness.Begin(t, "Under overload, every request is answered within its budget")
	_, reqs := checkOverload(t, c)
	late := 0
	for _, r := range reqs {
		if r.late() {
			late++
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once for %d slots of %.0f ms: answers given more than %.0f ms after the request arrived (the budget, plus %.0f ms of slack)", checkBurst, checkSlots, harness.Ms(checkService), harness.Ms(checkBudget+checkSlack), harness.Ms(checkSlack)),
		Unit:  harness.Count,
		Want:  "none: queue only what the pool can serve within the budget, and answer 503 to the rest",
		Cause: "Requests wait for a slot without limit: the last ones wait for every call ahead of them. Bound the queue.",
	}, "max", 0, float64(late))
}

func TestFast(t *testing.T) {
	c := harness.Begin(t, "When the queue is full, requests are turned away at once")
	_, reqs := checkOverload(t, c)
	fast, rejected := 0, 0
	for _, r := range reqs {
		if r.status != http.StatusServiceUnavailable {
			continue
		}
		rejected++
		if r.endsSeen == r.endsAtArr {
			fast++ // no backend call ended while it waited: it never waited for a slot
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once for %d slots: 503 answers given at once, before any backend call ended while the request waited", checkBurst, checkSlots),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("about %d: everything beyond the %d slots and the queue is turned away as it arrives", checkBurst-checkSlots-14, checkSlots),
		Cause: "Requests the pool cannot serve in time wait first and are turned away later, or not at all: decide when a request arrives, from how many are already waiting, without waiting yourself.",
	}, "min", checkMinFast, float64(fast))
	c.Note(fmt.Sprintf("%d requests were answered 503 in all.", rejected))
}

func TestRetryAfter(t *testing.T) {
	c := harness.Begin(t, "Every 503 says when to retry (Retry-After)")
	_, reqs := checkOverload(t, c)
	rejected, missing := 0, 0
	example := ""
	for _, r := range reqs {
		if r.status != http.StatusServiceUnavailable {
			continue
		}
		rejected++
		if n, err := strconv.Atoi(strings.TrimSpace(r.retry)); err != nil || n < 0 || !r.hasRetry {
			missing++
			if example == "" {
				example = fmt.Sprintf("; one had Retry-After %q", r.retry)
			}
		}
	}
	if rejected == 0 {
		c.Fatal(fmt.Sprintf("%d requests at once for %d slots of %.0f ms with a budget of %.0f ms, and not one was answered 503 Service Unavailable: a full pool must turn requests away, with a Retry-After header.", checkBurst, checkSlots, harness.Ms(checkService), harness.Ms(checkBudget)))
	}
	c.Value(harness.Quantity{
		What:  "503 answers without a Retry-After header of whole seconds",
		Unit:  harness.Count,
		Want:  "none: set w.Header().Set(\"Retry-After\", \"1\") before writing the status",
		Cause: "Without Retry-After a client cannot tell how long to back off; headers set after WriteHeader (or http.Error) are not sent.",
	}, "max", 0, float64(missing))
	c.Note(fmt.Sprintf("%d requests were answered 503 in all%s.", rejected, example))
}

func TestHeld(t *testing.T) {
	c := harness.Begin(t, "The queue stays bounded: few requests wait for a slot at once")
	l, _ := checkOverload(t, c)
	l.mu.Lock()
	held := l.heldAtEnds
	l.mu.Unlock()
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once: the most requests waiting in the handler for a slot when a backend call ended", checkBurst),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the queue Little's law gives: about %d for %d slots, calls of %.0f ms and a budget of %.0f ms", checkSlots*int(checkBudget-checkService)/int(checkService), checkSlots, harness.Ms(checkService), harness.Ms(checkBudget)),
		Cause: "Every request that arrives waits: each one holds a goroutine, a connection and memory for as long as it waits. Bound the queue, and answer 503 beyond it.",
	}, "max", checkMaxHeld, float64(held))
}

func TestThroughput(t *testing.T) {
	c := harness.Begin(t, "Under overload, the queue still serves what the budget allows")
	l, reqs := checkOverload(t, c)
	l.mu.Lock()
	first := l.firstEnd
	l.mu.Unlock()
	served, early := 0, 0
	for _, r := range reqs {
		if first != 0 && r.arrival > first {
			continue // arrived after a slot had freed: not part of the burst
		}
		early++
		if r.served() && !r.late() {
			served++
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once: of those that arrived before the first backend call ended, answered with their price within the budget", checkBurst),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("about %d: %d slots finish %d rounds of %.0f ms calls within %.0f ms", checkSlots*int(checkBudget/checkService), checkSlots, int(checkBudget/checkService), harness.Ms(checkService), harness.Ms(checkBudget)),
		Cause: "The handler turns away requests the pool could still serve in time, or answers them without the backend's price. Let a queue of the size Little's law gives wait for a slot, instead of rejecting whenever every slot is busy, and answer each request its own call's price.",
	}, "min", checkMinServed, float64(served))
	c.Note(fmt.Sprintf("%d of the %d requests arrived before the first backend call ended.", early, len(reqs)))
}

func TestStall(t *testing.T) {
	c := harness.Begin(t, "When the backend stalls, no request starts a call it has no time left to finish")
	l := checkNewLab(checkSlots)
	reqs := l.run(t, c, checkStallN)
	l.timeline(c, reqs)
	c.Note(checkSummary(reqs))
	wasted, late := 0, 0
	for _, r := range reqs {
		for _, call := range r.calls {
			if call.start-r.arrival > checkBudget-checkService {
				wasted++
			}
		}
		if r.late() {
			late++
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%d requests at once while the first %d calls take %.0f ms: backend calls started when less than one call (%.0f ms) of the request's budget was left", checkStallN, checkSlots, harness.Ms(checkStall), harness.Ms(checkService)),
		Unit:  harness.Count,
		Want:  "none: a request that leaves the queue too late is answered 503 without calling the backend",
		Cause: "The queue's bound assumes calls of the usual length; when they slow down, requests leave the queue with their budget spent. Check the time left when a request gets its slot.",
	}, "max", 0, float64(wasted))
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("the same: answers given more than %.0f ms after the request arrived", harness.Ms(checkBudget+checkSlack)),
		Unit:  harness.Count,
		Want:  "none",
		Cause: "Requests that waited too long in the queue still ran. Check the time left when a request gets its slot.",
	}, "max", 0, float64(late))
}
