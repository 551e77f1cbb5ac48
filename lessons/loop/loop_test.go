package loop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests use the real clock and real loopback connections, like the
// lesson checks. Counts decide where they can; where time decides, the bound
// leaves at least 3x room between the behaviour tested and its opposite, and
// lower bounds rely only on timers never firing early.

// waitLimit bounds every wait in these tests.
const waitLimit = 5 * time.Second

type result struct {
	status int
	body   string
	err    error
	took   time.Duration
}

// serve starts app on loopback for the duration of the test.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// fire sends n GET requests at once, each on its own connection, and waits
// for all of them; each gives up after waitLimit.
func fire(url string, n int) []result {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	out := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { // exits when its request returns (waitLimit at most)
			<-start
			out[i] = get(client, fmt.Sprintf("%s?i=%d", url, i))
		})
	}
	close(start)
	wg.Wait()
	return out
}

func get(client *http.Client, url string) result {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return result{err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err, took: time.Since(t0)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), err: err, took: time.Since(t0)}
}

// fireAsync starts fire in the background; the returned function waits for
// the results.
func fireAsync(url string, n int) (wait func() []result) {
	ch := make(chan []result, 1)
	go func() { ch <- fire(url, n) }() // exits when fire returns (waitLimit at most)
	return func() []result { return <-ch }
}

// allOK reports the first response that is not 200 with the wanted body.
func allOK(t *testing.T, rs []result, want string) {
	t.Helper()
	for i, r := range rs {
		if r.err != nil || r.status != http.StatusOK || r.body != want {
			t.Fatalf("request %d = (%d, %q, %v), want (200, %q, <nil>)", i, r.status, r.body, r.err, want)
		}
	}
}

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", waitLimit, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// gate blocks handlers until the test opens it, or until waitLimit passes.
// Tests open it with defer as well, so that a failing test releases its
// handlers before the server's cleanup waits for them.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) wait() {
	select {
	case <-g.ch:
	case <-time.After(waitLimit):
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// gauge counts things in flight and their peak, independently of the loop's
// own counters.
type gauge struct{ now, peak atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
}

func (g *gauge) exit() { g.now.Add(-1) }

func wall(rs []result) time.Duration {
	var hi time.Duration
	for _, r := range rs {
		hi = max(hi, r.took)
	}
	return hi
}

func TestBatonExclusive(t *testing.T) {
	// Each handler runs three slices of code on the loop (1 ms each, with
	// time.Sleep, which keeps the baton) separated by c.Sleep, which gives
	// it away. The gauge counts handler code running at the same instant.
	var bodies gauge
	app := New(Options{})
	app.Async("/", func(c *Ctx) string {
		for range 3 {
			bodies.enter()
			time.Sleep(time.Millisecond)
			bodies.exit()
			c.Sleep(5 * time.Millisecond)
		}
		return "ok"
	})
	allOK(t, fire(serve(t, app), 20), "ok")
	s := app.Stats()
	if got := bodies.peak.Load(); got != 1 {
		t.Errorf("handler bodies running at once: peak = %d, want 1", got)
	}
	if s.LoopPeak != 1 {
		t.Errorf("Stats().LoopPeak = %d, want 1", s.LoopPeak)
	}
	if s.AwaitingPeak < 2 {
		t.Errorf("Stats().AwaitingPeak = %d, want at least 2 (handlers sleep together)", s.AwaitingPeak)
	}
	if s.Handled != 20 || s.LoopHolders != 0 || s.Awaiting != 0 {
		t.Errorf("Stats() after the load = %+v, want Handled 20, LoopHolders 0, Awaiting 0", s)
	}
}

func TestBatonReleaseUnheld(t *testing.T) {
	b := NewBaton()
	defer func() {
		if recover() == nil {
			t.Errorf("Release of a free baton did not panic")
		}
		b.Acquire() // still usable: the failed Release changed nothing
		b.Release()
	}()
	b.Release()
}

func TestAwaitReleasesLoop(t *testing.T) {
	// Ten handlers block inside Await at the same time: possible only if
	// each one gave the loop away. Counted, not timed.
	g := newGate()
	defer g.open()
	app := New(Options{})
	app.Async("/", func(c *Ctx) string {
		c.Await(g.wait)
		return "ok"
	})
	wait := fireAsync(serve(t, app), 10)
	waitFor(t, "10 handlers are inside Await", func() bool { return app.Stats().Awaiting == 10 })
	if s := app.Stats(); s.LoopHolders != 0 || s.LoopWaiting != 0 {
		t.Errorf("Stats() with 10 handlers awaiting = %+v, want LoopHolders 0, LoopWaiting 0", s)
	}
	g.open()
	allOK(t, wait(), "ok")
}

// measureRounds fires n requests at app's route "/" and returns the number
// of rounds their work ran in (see waves). Every handler first waits at a
// start line without doing anything; the line opens once ready reports that
// all n requests are in place, so the rounds do not depend on how fast the
// client opens connections or how fast the machine is.
func measureRounds(t *testing.T, app *App, n int, ready func(Stats) bool, line *gate, iv *intervals) int {
	t.Helper()
	wait := fireAsync(serve(t, app), n)
	waitFor(t, fmt.Sprintf("all %d requests wait at the start line", n), func() bool { return ready(app.Stats()) })
	line.open()
	allOK(t, wait(), "ok")
	return waves(iv.get())
}

// intervals collects [start, end] pairs from many handlers.
type intervals struct {
	mu sync.Mutex
	iv [][2]time.Time
}

// time runs fn and records when it started and ended.
func (iv *intervals) time(fn func()) {
	start := time.Now()
	fn()
	end := time.Now()
	iv.mu.Lock()
	iv.iv = append(iv.iv, [2]time.Time{start, end})
	iv.mu.Unlock()
}

func (iv *intervals) get() [][2]time.Time {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return slices.Clone(iv.iv)
}

func TestSleep(t *testing.T) {
	// Each async handler waits d in a different way. Waits that give the
	// loop away all overlap: one round. A wait that keeps it runs one
	// request at a time: n rounds. Counted from the handlers' own clocks.
	const d = 40 * time.Millisecond
	tests := []struct {
		name string
		wait func(c *Ctx)
		n    int
		want int // rounds
	}{
		{"c.Sleep", func(c *Ctx) { c.Sleep(d) }, 10, 1},
		{"c.Await timer", func(c *Ctx) { c.Await(func() { <-time.After(d) }) }, 10, 1},
		{"c.RunInPool", func(c *Ctx) { c.RunInPool(func() { time.Sleep(d) }) }, 10, 1},
		{"time.Sleep", func(c *Ctx) { time.Sleep(d) }, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := newGate()
			defer line.open()
			var iv intervals
			app := New(Options{})
			app.Async("/", func(c *Ctx) string {
				c.Await(line.wait)
				iv.time(func() { tt.wait(c) })
				return "ok"
			})
			ready := func(s Stats) bool { return s.Awaiting == tt.n }
			if got := measureRounds(t, app, tt.n, ready, line, &iv); got != tt.want {
				t.Errorf("%d requests waiting with %s: rounds = %d, want %d", tt.n, tt.name, got, tt.want)
			}
		})
	}
}

func TestPoolLimit(t *testing.T) {
	tests := []struct {
		size, n  int
		wantSize int
	}{
		{0, 60, DefaultPoolSize},
		{3, 5, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("PoolSize=%d", tt.size), func(t *testing.T) {
			g := newGate()
			defer g.open()
			var running gauge
			app := New(Options{PoolSize: tt.size})
			app.Sync("/", func(c *Ctx) string {
				running.enter()
				defer running.exit()
				g.wait()
				return "ok"
			})
			wait := fireAsync(serve(t, app), tt.n)
			waitFor(t, fmt.Sprintf("%d requests hold a slot and %d wait", tt.wantSize, tt.n-tt.wantSize), func() bool {
				s := app.Stats()
				return s.PoolInUse == tt.wantSize && s.PoolWaiting == tt.n-tt.wantSize
			})
			time.Sleep(10 * time.Millisecond) // room for a broken limit to let more in
			if got := running.now.Load(); got != int64(tt.wantSize) {
				t.Errorf("sync handlers running with the pool full = %d, want %d", got, tt.wantSize)
			}
			g.open()
			allOK(t, wait(), "ok")
			s := app.Stats()
			if s.PoolSize != tt.wantSize || s.PoolPeak != tt.wantSize || running.peak.Load() != int64(tt.wantSize) {
				t.Errorf("Stats() = %+v, handler peak %d; want PoolSize, PoolPeak and handler peak %d", s, running.peak.Load(), tt.wantSize)
			}
			if s.PoolInUse != 0 || s.PoolWaiting != 0 || s.Handled != int64(tt.n) {
				t.Errorf("Stats() after the load = %+v, want PoolInUse 0, PoolWaiting 0, Handled %d", s, tt.n)
			}
		})
	}
}

func TestRunInPoolSharesPool(t *testing.T) {
	// Two slots; two sync requests and two async requests that offload with
	// RunInPool compete for them. The loop stays free throughout.
	g := newGate()
	defer g.open()
	app := New(Options{PoolSize: 2})
	app.Sync("/sync", func(c *Ctx) string { g.wait(); return "sync" })
	app.Async("/offload", func(c *Ctx) string {
		c.RunInPool(g.wait)
		return "offload"
	})
	app.Async("/health", func(c *Ctx) string { return "ok" })
	url := serve(t, app)
	waitSync, waitOffload := fireAsync(url+"/sync", 2), fireAsync(url+"/offload", 2)
	waitFor(t, "2 calls hold the pool and 2 wait", func() bool {
		s := app.Stats()
		return s.PoolInUse == 2 && s.PoolWaiting == 2
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if r := get(client, url+"/health"); r.status != http.StatusOK || r.took > time.Second {
		t.Errorf("GET /health with the pool full = (%d, %v, %v), want 200 at once", r.status, r.took, r.err)
	}
	if s := app.Stats(); s.PoolWaiting != 2 {
		t.Errorf("Stats().PoolWaiting after /health = %d, want 2 (the pool was still full)", s.PoolWaiting)
	}
	g.open()
	allOK(t, waitSync(), "sync")
	allOK(t, waitOffload(), "offload")
	if s := app.Stats(); s.PoolPeak != 2 {
		t.Errorf("Stats().PoolPeak = %d, want 2", s.PoolPeak)
	}
}

func TestPanicReleases(t *testing.T) {
	tests := []struct {
		name  string
		async bool
		h     Handler
	}{
		{"async", true, func(c *Ctx) string { panic("boom") }},
		{"inside Await", true, func(c *Ctx) string { c.Await(func() { panic("boom") }); return "" }},
		{"after Sleep", true, func(c *Ctx) string { c.Sleep(time.Millisecond); panic("boom") }},
		{"inside RunInPool", true, func(c *Ctx) string { c.RunInPool(func() { panic("boom") }); return "" }},
		{"sync", false, func(c *Ctx) string { panic("boom") }},
		{"sync, nested RunInPool", false, func(c *Ctx) string { c.RunInPool(func() { panic("boom") }); return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := New(Options{PoolSize: 1})
			if tt.async {
				app.Async("/panic", tt.h)
			} else {
				app.Sync("/panic", tt.h)
			}
			app.Async("/async", func(c *Ctx) string { return "ok" })
			app.Sync("/sync", func(c *Ctx) string { return "ok" })
			url := serve(t, app)
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			if r := get(client, url+"/panic"); r.status != http.StatusInternalServerError || !strings.Contains(r.body, "boom") {
				t.Errorf("GET /panic = (%d, %q, %v), want 500 mentioning the panic", r.status, r.body, r.err)
			}
			// With one slot and one loop, anything left locked shows here.
			for _, path := range []string{"/async", "/sync"} {
				if r := get(client, url+path); r.status != http.StatusOK {
					t.Errorf("GET %s after the panic = (%d, %q, %v), want 200", path, r.status, r.body, r.err)
				}
			}
			if s := app.Stats(); s.LoopHolders != 0 || s.PoolInUse != 0 || s.Awaiting != 0 || s.Handled != 3 {
				t.Errorf("Stats() = %+v, want nothing held and Handled 3", s)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	app := New(Options{})
	app.Async("/plain", func(c *Ctx) string { return "hello" })
	app.Async("/busy", func(c *Ctx) string {
		c.SetStatus(http.StatusServiceUnavailable)
		c.Header().Set("Retry-After", "1")
		return "busy"
	})
	app.Sync("GET /items/{id}", func(c *Ctx) string { return "item " + c.Request().PathValue("id") })
	app.Sync("/nap", func(c *Ctx) string {
		c.Sleep(time.Millisecond) // no loop to give away: just sleeps
		c.Await(func() {})
		return "rested"
	})
	url := serve(t, app)
	tests := []struct {
		path, want string
		status     int
		header     string // Retry-After
	}{
		{"/plain", "hello", 200, ""},
		{"/busy", "busy", 503, "1"},
		{"/items/7", "item 7", 200, ""},
		{"/nap", "rested", 200, ""},
		{"/nowhere", "404 page not found\n", 404, ""},
	}
	client := &http.Client{}
	for _, tt := range tests {
		resp, err := client.Get(url + tt.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || string(b) != tt.want || resp.Header.Get("Retry-After") != tt.header {
			t.Errorf("GET %s = (%d, %q, Retry-After %q), want (%d, %q, %q)", tt.path, resp.StatusCode, b, resp.Header.Get("Retry-After"), tt.status, tt.want, tt.header)
		}
	}
}

func TestGoneClientDropped(t *testing.T) {
	// A handler holds the loop; a second request's client gives up while it
	// waits for the loop. When the loop frees, the second handler never runs.
	g := newGate()
	defer g.open()
	var ran atomic.Int64
	var gone atomic.Bool
	app := New(Options{})
	app.Async("/hold", func(c *Ctx) string { g.wait(); return "held" }) // blocks on the loop
	app.Async("/count", func(c *Ctx) string { ran.Add(1); return "counted" })
	watch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/count" {
			stop := context.AfterFunc(r.Context(), func() { gone.Store(true) })
			defer stop()
		}
		app.ServeHTTP(w, r)
	})
	url := serve(t, watch)
	waitHold := fireAsync(url+"/hold", 1)
	waitFor(t, "/hold holds the loop", func() bool { return app.Stats().LoopHolders == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	waitCount := make(chan error, 1)
	go func() { // exits when the request fails, right after cancel below
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/count", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		waitCount <- err
	}()
	waitFor(t, "/count waits for the loop", func() bool { return app.Stats().LoopWaiting == 1 })
	cancel()
	if err := <-waitCount; err == nil {
		t.Fatalf("GET /count answered while the loop was held")
	}
	waitFor(t, "the server sees the client leave", gone.Load)
	g.open()
	allOK(t, waitHold(), "held")
	waitFor(t, "the loop is free and nobody waits", func() bool { s := app.Stats(); return s.LoopWaiting == 0 && s.LoopHolders == 0 })
	if n := ran.Load(); n != 0 {
		t.Errorf("/count handler ran %d times after its client left, want 0", n)
	}
}

// waves is the longest chain of intervals each starting after the previous
// one ended. If at most k intervals overlap at any instant, n intervals
// form a chain of at least ceil(n/k) (Mirsky's theorem): the staircase.
func waves(iv [][2]time.Time) int {
	slices.SortFunc(iv, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	depth := make([]int, len(iv))
	best := 0
	for i := range iv {
		depth[i] = 1
		for j := range i {
			if !iv[j][1].After(iv[i][0]) {
				depth[i] = max(depth[i], depth[j]+1)
			}
		}
		best = max(best, depth[i])
	}
	return best
}

func TestStaircase(t *testing.T) {
	// Source (c)'s table: n requests at once to a route that waits d.
	// Sync routes (time.Sleep in a pool of 40) need ceil(n/40) rounds
	// whatever d is; async routes (c.Sleep) need one round whatever n is,
	// as long as d is long enough for every request to start sleeping
	// before the first wakes (40 ms is ample even on a loaded machine).
	const syncD, asyncD = 20 * time.Millisecond, 40 * time.Millisecond
	for _, n := range []int{20, 40, 80, 120} {
		full := min(n, DefaultPoolSize)
		tests := []struct {
			kind  string
			route func(app *App, line *gate, iv *intervals)
			ready func(Stats) bool
			check func(rounds int) bool
			want  string
		}{
			{
				kind: "sync",
				route: func(app *App, line *gate, iv *intervals) {
					app.Sync("/", func(c *Ctx) string { line.wait(); iv.time(func() { time.Sleep(syncD) }); return "ok" })
				},
				ready: func(s Stats) bool { return s.PoolInUse == full && s.PoolWaiting == n-full },
				// At most 40 overlap, so at least ceil(n/40) rounds (Mirsky).
				check: func(r int) bool { return r >= (n+DefaultPoolSize-1)/DefaultPoolSize },
				want:  fmt.Sprintf("at least %d", (n+DefaultPoolSize-1)/DefaultPoolSize),
			},
			{
				kind: "async",
				route: func(app *App, line *gate, iv *intervals) {
					app.Async("/", func(c *Ctx) string { c.Await(line.wait); iv.time(func() { c.Sleep(asyncD) }); return "ok" })
				},
				ready: func(s Stats) bool { return s.Awaiting == n },
				check: func(r int) bool { return r == 1 },
				want:  "1",
			},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s n=%d", tt.kind, n), func(t *testing.T) {
				line := newGate()
				defer line.open()
				var iv intervals
				app := New(Options{})
				tt.route(app, line, &iv)
				start := time.Now()
				got := measureRounds(t, app, n, tt.ready, line, &iv)
				if !tt.check(got) {
					t.Errorf("%s route, %d requests: rounds = %d, want %s", tt.kind, n, got, tt.want)
				}
				if s := app.Stats(); s.PoolPeak > DefaultPoolSize || s.LoopPeak != 1 {
					t.Errorf("Stats() = %+v, want PoolPeak at most %d and LoopPeak 1", s, DefaultPoolSize)
				}
				t.Logf("%s route, %d requests: %d rounds, %v", tt.kind, n, got, time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	app := New(Options{})
	app.Async("/", func(c *Ctx) string { c.Sleep(time.Millisecond); return "ok" })
	srv := httptest.NewServer(app)
	allOK(t, fire(srv.URL, 10), "ok")
	srv.Close()
	var n int
	deadline := time.Now().Add(waitLimit)
	for n = runtime.NumGoroutine(); n > before && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	if n > before {
		t.Errorf("goroutines after the server closed = %d, want at most %d", n, before)
	}
}
