package harness

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Result is the outcome of one request fired by [Fire] or [Get].
type Result struct {
	Span
	Status int    // HTTP status, 0 when the request failed
	Body   string // the response body, truncated to 4 KiB
	Err    error  // transport error, or the deadline
}

// Serve starts h on a loopback test server that closes when the test ends,
// and returns its base URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Client returns a client that opens a fresh connection per request, so
// that neither keep-alive reuse (one request at a time per HTTP/1.1
// connection) nor the transport's per-host limits shape the measurement.
func Client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0},
		Timeout:   Deadline,
	}
}

// Fire sends n GET requests to url at the same moment, each on its own
// connection and with a distinct query string (so no cache can merge them),
// and returns one result per request in the order they were fired. t0 is the
// common origin of the spans; pass the same t0 to other measurements that
// share the timeline. Every request gives up after [Deadline].
func Fire(ctx context.Context, t0 time.Time, url string, n int, label string) []Result {
	c := Client()
	defer c.CloseIdleConnections()
	out := make([]Result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = get(ctx, c, t0, fmt.Sprintf("%s%sreq=%d", url, sep(url), i), fmt.Sprintf("%s %d", label, i+1))
		})
	}
	close(start)
	wg.Wait()
	return out
}

// Get sends one GET request and times it against t0.
func Get(ctx context.Context, t0 time.Time, url, label string) Result {
	c := Client()
	defer c.CloseIdleConnections()
	return get(ctx, c, t0, url, label)
}

func get(ctx context.Context, c *http.Client, t0 time.Time, url, label string) Result {
	ctx, cancel := context.WithTimeout(ctx, Deadline)
	defer cancel()
	r := Result{Span: Span{Label: label, Start: time.Since(t0)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		var resp *http.Response
		resp, err = c.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			r.Status, r.Body = resp.StatusCode, string(b)
		}
	}
	r.End = time.Since(t0)
	r.Err = err
	switch {
	case err != nil:
		r.Outcome = "error"
	case r.Status >= 500:
		r.Outcome = "rejected"
	case r.Status >= 400:
		r.Outcome = "error"
	default:
		r.Outcome = "ok"
	}
	return r
}

func sep(url string) string {
	for i := range len(url) {
		if url[i] == '?' {
			return "&"
		}
	}
	return "?"
}

// Spans returns the spans of results, for [Check.Timeline].
func Spans(rs []Result) []Span {
	out := make([]Span, len(rs))
	for i, r := range rs {
		out[i] = r.Span
	}
	return out
}

// Wall returns the time from the earliest start to the latest end.
func Wall(rs []Result) time.Duration {
	if len(rs) == 0 {
		return 0
	}
	lo, hi := rs[0].Start, rs[0].End
	for _, r := range rs {
		lo, hi = min(lo, r.Start), max(hi, r.End)
	}
	return hi - lo
}

// Latencies returns each result's duration, sorted ascending.
func Latencies(rs []Result) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = r.End - r.Start
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Failed returns the results that got no 2xx answer.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Err != nil || r.Status < 200 || r.Status > 299 {
			out = append(out, r)
		}
	}
	return out
}

// Gauge counts how many things are in flight at once and remembers the peak.
// The zero value is ready to use.
type Gauge struct {
	cur, peak atomic.Int64
}

// Enter marks one more in flight and returns the function that marks it done.
func (g *Gauge) Enter() (exit func()) {
	n := g.cur.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { g.cur.Add(-1) }
}

// Now returns how many are in flight.
func (g *Gauge) Now() int { return int(g.cur.Load()) }

// Peak returns the largest number in flight seen so far.
func (g *Gauge) Peak() int { return int(g.peak.Load()) }

// Wrap returns a handler that counts requests to h in the gauge.
func (g *Gauge) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer g.Enter()()
		h.ServeHTTP(w, r)
	})
}

// Recorder collects spans from many goroutines, for work the checks observe
// from the inside (a fake downstream, a job in a pool).
type Recorder struct {
	t0   time.Time
	mu   sync.Mutex
	s    []Span
	open map[int]Span // started, not ended, by start order
	next int
}

// NewRecorder returns a recorder whose spans are measured from t0.
func NewRecorder(t0 time.Time) *Recorder { return &Recorder{t0: t0, open: map[int]Span{}} }

// Start begins a span and returns the function that ends it with an outcome.
func (r *Recorder) Start(label string) (end func(outcome string)) {
	s := Span{Label: label, Start: time.Since(r.t0)}
	r.mu.Lock()
	id := r.next
	r.next++
	if r.open == nil {
		r.open = map[int]Span{}
	}
	r.open[id] = s
	r.mu.Unlock()
	return func(outcome string) {
		s.End, s.Outcome = time.Since(r.t0), outcome
		r.mu.Lock()
		delete(r.open, id)
		r.s = append(r.s, s)
		r.mu.Unlock()
	}
}

// Spans returns a copy of the ended spans.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.s...)
}

// Drawn returns the spans to draw on a timeline: the ended ones, and each
// one still running as a span up to now with the outcome "unfinished", so
// that a chart of 120 requests of which 27 ended shows all 120.
func (r *Recorder) Drawn() []Span {
	now := time.Since(r.t0)
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Span(nil), r.s...)
	for _, id := range slices.Sorted(maps.Keys(r.open)) {
		s := r.open[id]
		s.End, s.Outcome = now, "unfinished"
		out = append(out, s)
	}
	return out
}

// SpansFrom returns the spans to draw (as [Recorder.Drawn]: those still
// running included, as "unfinished"), measured from t0 instead
// of the recorder's own time zero, so that they line up with spans timed
// from t0 (a load's requests) on one timeline.
func (r *Recorder) SpansFrom(t0 time.Time) []Span {
	shift := t0.Sub(r.t0)
	spans := r.Drawn()
	for i := range spans {
		spans[i].Start -= shift
		spans[i].End -= shift
	}
	return spans
}

// Quit is a signal that fires once: a check's fake backend waits on Done
// and returns at once when the check has stopped listening, so a server
// stuck behind the learner's code drains fast. Close may be called any
// number of times, from any goroutine.
type Quit struct {
	ch   chan struct{}
	once sync.Once
}

// NewQuit returns a signal that has not fired.
func NewQuit() *Quit { return &Quit{ch: make(chan struct{})} }

// Done returns a channel that is closed once Close has been called.
func (q *Quit) Done() <-chan struct{} { return q.ch }

// Close fires the signal; calls after the first do nothing.
func (q *Quit) Close() { q.once.Do(func() { close(q.ch) }) }

// Closed reports whether Close has been called.
func (q *Quit) Closed() bool {
	select {
	case <-q.ch:
		return true
	default:
		return false
	}
}

// CPUUnit is a calibrated amount of CPU work: Spin burns about Duration of
// CPU time on the running machine. CPU-bound checks express their thresholds
// in units, so the same check holds on a 2-core CI box and a 16-core laptop.
type CPUUnit struct {
	Iterations int           // loop iterations per unit
	Duration   time.Duration // measured time of one unit, alone on one core
	Procs      int           // runtime.GOMAXPROCS(0) at calibration time
}

// CalibrateCPU finds how many iterations of the spin loop take about target
// on this machine. It takes the fastest of several short trials, which is
// the best estimate of one uncontended core.
func CalibrateCPU(target time.Duration) CPUUnit {
	iters := 1 << 16
	var per time.Duration
	for {
		start := time.Now()
		Spin(iters)
		per = time.Since(start)
		if per >= 2*time.Millisecond {
			break
		}
		iters *= 2
	}
	best := per
	for range 4 {
		start := time.Now()
		Spin(iters)
		best = min(best, time.Since(start))
	}
	n := int(float64(iters) * float64(target) / float64(max(best, 1)))
	u := CPUUnit{Iterations: max(n, 1), Procs: runtime.GOMAXPROCS(0)}
	start := time.Now()
	Spin(u.Iterations)
	u.Duration = min(time.Since(start), target*3)
	return u
}

// Burn spins for one unit of CPU work.
func (u CPUUnit) Burn() { Spin(u.Iterations) }

var sink atomic.Uint64

// Spin runs a tight arithmetic loop of n iterations that the compiler cannot
// remove. It makes no function calls, like real number crunching.
func Spin(n int) {
	x := uint64(n) | 1
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	sink.Add(x)
}

// WaitUntil polls cond every millisecond until it holds or the deadline
// passes, and reports whether it held.
func WaitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}

// Goroutines waits up to d for the goroutine count to fall to at most want
// and returns the count it last saw. Use it to check that nothing leaked.
func Goroutines(want int, d time.Duration) int {
	n := runtime.NumGoroutine()
	WaitUntil(d, func() bool { n = runtime.NumGoroutine(); return n <= want })
	return n
}
