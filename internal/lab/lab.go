// Package lab runs the tutor's built-in experiments: measurements with knobs
// that reproduce, on the learner's own machine, the numbers the lessons talk
// about. They are demonstrations, not exercises.
//
// [AsyncVsSync] rebuilds the experiment behind the 20/40/80/120 table in the
// blog post among the course's sources: a burst of concurrent requests
// against an async endpoint that awaits a timer and against a sync endpoint
// that sleeps in a pool slot. With a pool of 40, the async column stays flat
// while the sync column climbs in steps of one unit per 40 requests.
package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotutor/tutor/lessons/loop"
)

// Row is one line of the async-vs-sync table: the median of the repeated
// bursts at one concurrency.
type Row struct {
	Concurrency int           `json:"concurrency"` // requests sent at once
	Async       time.Duration `json:"async_ns"`    // wall time of the async burst, from sending to the last answer
	Sync        time.Duration `json:"sync_ns"`     // the same for the sync burst
	AsyncPeak   int           `json:"async_peak"`  // most async handlers inside their wait at once
	SyncPeak    int           `json:"sync_peak"`   // most sync handlers inside their wait at once
}

// Options are the knobs of [AsyncVsSync]. Zero fields take the defaults.
type Options struct {
	// Pool is the number of pool slots for sync handlers; default
	// [loop.DefaultPoolSize], anyio's 40 tokens.
	Pool int
	// Unit is how long each handler waits; default 100 ms.
	Unit time.Duration
	// Concurrency lists the burst sizes to measure; default 20, 40, 80, 120,
	// the rows of the blog's table.
	Concurrency []int
	// OnRow, if not nil, is called with each row as soon as it is
	// measured, from the goroutine that called [AsyncVsSync].
	OnRow func(Row)
}

// Defaults for [Options].
const (
	DefaultUnit = 100 * time.Millisecond
	repeats     = 3 // bursts per cell; the row reports the median
)

// DefaultConcurrency is the default list of burst sizes. It is a function,
// not a variable, so that no caller can change the default for others.
func DefaultConcurrency() []int { return []int{20, 40, 80, 120} }

// withDefaults fills in zero fields and rejects impossible values.
func (o Options) withDefaults() (Options, error) {
	if o.Pool == 0 {
		o.Pool = loop.DefaultPoolSize
	}
	if o.Unit == 0 {
		o.Unit = DefaultUnit
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = DefaultConcurrency()
	}
	o.Concurrency = slices.Clone(o.Concurrency)
	switch {
	case o.Pool < 0:
		return o, fmt.Errorf("pool size %d: must be at least 1", o.Pool)
	case o.Unit < time.Millisecond || o.Unit > 10*time.Second:
		return o, fmt.Errorf("unit %v: must be between 1ms and 10s", o.Unit)
	}
	for _, n := range o.Concurrency {
		if n < 1 || n > 1000 {
			return o, fmt.Errorf("concurrency %d: must be between 1 and 1000", n)
		}
	}
	return o, nil
}

// AsyncVsSync starts a [loop.App] on loopback with two endpoints that each
// wait one o.Unit: /async awaits it with c.Sleep (await asyncio.sleep), /sync
// is a sync handler that calls time.Sleep (a def route). For every
// concurrency it fires that many requests at once at each endpoint, every
// request on its own connection with its own query string, and measures the
// burst's wall time and how many handlers were inside their wait at once.
// Each cell is measured three times and the row holds the medians. One
// discarded warm-up burst comes first.
//
// It returns an error if a request fails or ctx ends.
func AsyncVsSync(ctx context.Context, o Options) ([]Row, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("async vs sync: %w", err)
	}
	var inAsync, inSync gauge
	app := loop.New(loop.Options{PoolSize: o.Pool})
	app.Async("/async", func(c *loop.Ctx) string {
		// c.Sleep(o.Unit), spelled out as the loop defines it, so that the
		// gauge counts the handlers inside the wait itself.
		c.Await(func() {
			defer inAsync.enter()()
			time.Sleep(o.Unit)
		})
		return "async\n"
	})
	app.Sync("/sync", func(c *loop.Ctx) string {
		defer inSync.enter()()
		time.Sleep(o.Unit)
		return "sync\n"
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("async vs sync: listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: app}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // exits when srv.Close runs below
	defer func() {
		srv.Close()
		<-served
	}()
	base := "http://" + ln.Addr().String()

	// A discarded warm-up burst, so the first row does not pay for the
	// goroutines and buffers the runtime allocates on first use.
	if _, err := burst(ctx, base+"/async", slices.Max(o.Concurrency), 10*o.Unit+5*time.Second, "warm-up"); err != nil {
		return nil, fmt.Errorf("async vs sync: warm-up: %w", err)
	}

	rows := make([]Row, 0, len(o.Concurrency))
	for _, n := range o.Concurrency {
		// timeout bounds one burst: far above what a pool of o.Pool needs.
		timeout := time.Duration((n+o.Pool-1)/o.Pool)*o.Unit*10 + 5*time.Second
		var asyncWall, syncWall []time.Duration
		var asyncPeak, syncPeak []int
		for r := range repeats {
			for _, ep := range []struct {
				path  string
				g     *gauge
				walls *[]time.Duration
				peaks *[]int
			}{
				{"/async", &inAsync, &asyncWall, &asyncPeak},
				{"/sync", &inSync, &syncWall, &syncPeak},
			} {
				ep.g.reset()
				wall, err := burst(ctx, base+ep.path, n, timeout, fmt.Sprintf("n%d-r%d", n, r))
				if err != nil {
					return nil, fmt.Errorf("async vs sync: %d requests to %s: %w", n, ep.path, err)
				}
				*ep.walls = append(*ep.walls, wall)
				*ep.peaks = append(*ep.peaks, ep.g.peakNow())
			}
		}
		row := Row{
			Concurrency: n,
			Async:       median(asyncWall), Sync: median(syncWall),
			AsyncPeak: median(asyncPeak), SyncPeak: median(syncPeak),
		}
		rows = append(rows, row)
		if o.OnRow != nil {
			o.OnRow(row)
		}
	}
	return rows, nil
}

// burst sends n GET requests to url at the same moment, each on a fresh
// connection and with a distinct query string, and returns the time from
// the moment they were released to the last complete answer. Each request
// gives up after timeout.
func burst(ctx context.Context, url string, n int, timeout time.Duration, tag string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()

	errs := make([]error, n)
	ends := make([]time.Time, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { // exits when its request is answered or ctx ends
			<-start
			errs[i] = get(ctx, client, fmt.Sprintf("%s?burst=%s&i=%d", url, tag, i))
			ends[i] = time.Now()
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return 0, fmt.Errorf("%d of %d requests failed, the first: %w", len(failed), n, failed[0])
	}
	last := t0
	for _, e := range ends {
		if e.After(last) {
			last = e
		}
	}
	return last.Sub(t0), nil
}

// get sends one request and reads the whole answer.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	return nil
}

// Table renders rows as an aligned terminal table. unit is the handlers'
// wait, used to express the sync wall time in units: 1×, 1×, 2×, 3× for a
// pool of 40.
func Table(rows []Row, unit time.Duration) string {
	out := [][]string{{"requests at once", "async (c.Sleep)", "sync (time.Sleep, pool)", "sync in units of " + formatDuration(unit), "waiting at once: async / sync"}}
	for _, r := range rows {
		units := "–"
		if unit > 0 {
			units = fmt.Sprintf("%.1f×", float64(r.Sync)/float64(unit))
		}
		out = append(out, []string{fmt.Sprint(r.Concurrency), formatDuration(r.Async), formatDuration(r.Sync), units,
			fmt.Sprintf("%d / %d", r.AsyncPeak, r.SyncPeak)})
	}
	return aligned(out)
}

// formatDuration prints whole milliseconds below a second and hundredths of
// a second above: "107 ms", "1.52 s".
func formatDuration(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// median returns the middle value of s (the upper middle for an even count).
func median[T int | time.Duration](s []T) T {
	c := slices.Clone(s)
	slices.Sort(c)
	return c[len(c)/2]
}

// gauge counts handlers inside their wait and remembers the peak.
type gauge struct{ now, peak atomic.Int64 }

// enter counts one more and returns the function that counts it out.
func (g *gauge) enter() (exit func()) {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return func() { g.now.Add(-1) }
}

// reset starts a new peak from the current count.
func (g *gauge) reset() { g.peak.Store(g.now.Load()) }

// peakNow returns the peak since the last reset.
func (g *gauge) peakNow() int { return int(g.peak.Load()) }
