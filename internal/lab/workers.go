package lab

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotutor/tutor/lessons/loop"
)

// WorkersOptions are the knobs of [Workers]. Zero fields take the defaults.
type WorkersOptions struct {
	Workers  []int         // worker counts to compare; default 1, 2, 4
	Pool     int           // sync slots per worker; default 40 (anyio's tokens)
	Requests int           // requests in the sleeping bursts; default 120
	Blocking int           // requests in the blocking burst; default 8
	Unit     time.Duration // how long each handler waits; default 100 ms
	// OnRow, if not nil, is called with each row as soon as it is
	// measured, from the goroutine that called [Workers].
	OnRow func(WorkersRow)
}

// WorkersRow is what one worker count measured.
type WorkersRow struct {
	Workers int `json:"workers"`
	Slots   int `json:"slots"` // sync slots in all: workers × pool
	// Sync is the wall time of a burst of Requests to a def-style handler
	// that sleeps in a pool slot.
	Sync time.Duration `json:"sync_ns"`
	// Async is the same burst to an async handler that awaits its sleep.
	Async time.Duration `json:"async_ns"`
	// Blocking is the wall time of a burst of Blocking requests to an async
	// handler that calls time.Sleep on the loop.
	Blocking time.Duration `json:"blocking_ns"`
	// Ping is the slowest of one /ping per worker, sent while the blocking
	// burst runs: how long a request that needs no work waits.
	Ping time.Duration `json:"ping_ns"`
	// Counter is what one worker's in-memory counter says after Requests
	// requests to /count, spread over all workers: memory is not shared.
	Counter int `json:"counter"`
}

// withDefaults fills in zero fields and rejects impossible values.
func (o WorkersOptions) withDefaults() (WorkersOptions, error) {
	if len(o.Workers) == 0 {
		o.Workers = []int{1, 2, 4}
	}
	o.Workers = slices.Clone(o.Workers)
	o.Pool = cmp.Or(o.Pool, loop.DefaultPoolSize)
	o.Requests = cmp.Or(o.Requests, 120)
	o.Blocking = cmp.Or(o.Blocking, 8)
	o.Unit = cmp.Or(o.Unit, DefaultUnit)
	for _, n := range o.Workers {
		if n < 1 || n > 16 {
			return o, fmt.Errorf("workers %d: must be between 1 and 16", n)
		}
	}
	switch {
	case o.Pool < 1 || o.Pool > 1000:
		return o, fmt.Errorf("pool %d: must be between 1 and 1000", o.Pool)
	case o.Requests < 1 || o.Requests > 1000:
		return o, fmt.Errorf("requests %d: must be between 1 and 1000", o.Requests)
	case o.Blocking < 1 || o.Blocking > 100:
		return o, fmt.Errorf("blocking %d: must be between 1 and 100", o.Blocking)
	case o.Unit < time.Millisecond || o.Unit > 10*time.Second:
		return o, fmt.Errorf("unit %v: must be between 1ms and 10s", o.Unit)
	}
	return o, nil
}

// Workers is the "just add workers" experiment, simulated in one process:
// each worker is its own [loop.App] (its own event loop and its own pool of
// o.Pool slots) on its own loopback listener, and the client deals the
// requests' connections to the workers in turn, as the kernel roughly does
// for forked workers that share one listening socket. Nothing is shared
// between workers but the machine, as with processes; what a simulation
// cannot show is the memory each real process costs.
//
// For each worker count it measures a burst of o.Requests to a sleeping
// def-style handler (N workers give N × pool slots), the same burst to an
// async handler that awaits (already flat with one worker), a burst of
// o.Blocking to an async handler that calls time.Sleep on its loop (each
// worker still runs those one at a time), a /ping to every worker during
// that burst, and what one worker's in-memory counter saw.
func Workers(ctx context.Context, o WorkersOptions) ([]WorkersRow, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	var rows []WorkersRow
	for _, n := range o.Workers {
		row, err := workersRun(ctx, o, n)
		if err != nil {
			return nil, fmt.Errorf("workers: %d workers: %w", n, err)
		}
		rows = append(rows, row)
		if o.OnRow != nil {
			o.OnRow(row)
		}
	}
	return rows, nil
}

// simWorker is one simulated worker process: a loop, its listener and its
// own memory (the counter).
type simWorker struct {
	base    string
	counter atomic.Int64
	srv     *http.Server
	served  chan error
}

// startWorkers starts n workers on loopback; stop ends them all.
func startWorkers(n int, o WorkersOptions) (ws []*simWorker, stop func(), err error) {
	stop = func() {
		for _, w := range ws {
			w.srv.Close()
			<-w.served
		}
	}
	for range n {
		w := &simWorker{served: make(chan error, 1)}
		app := loop.New(loop.Options{PoolSize: o.Pool})
		app.Sync("/sync", func(c *loop.Ctx) string {
			time.Sleep(o.Unit) // a def route: sleeps in a pool slot
			return "sync\n"
		})
		app.Async("/async", func(c *loop.Ctx) string {
			c.Sleep(o.Unit) // await asyncio.sleep: the loop serves others meanwhile
			return "async\n"
		})
		app.Async("/blocking", func(c *loop.Ctx) string {
			time.Sleep(o.Unit) // time.sleep inside async def: the loop stops
			return "blocking\n"
		})
		app.Async("/ping", func(c *loop.Ctx) string { return "pong\n" })
		app.Async("/count", func(c *loop.Ctx) string {
			return strconv.FormatInt(w.counter.Add(1), 10) + "\n"
		})
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			stop()
			return nil, nil, fmt.Errorf("listen on loopback: %w", lerr)
		}
		w.base = "http://" + ln.Addr().String()
		w.srv = &http.Server{Handler: app}
		go func() { w.served <- w.srv.Serve(ln) }() // ends when stop closes the server
		ws = append(ws, w)
	}
	return ws, stop, nil
}

// workersRun measures one worker count.
func workersRun(ctx context.Context, o WorkersOptions, n int) (WorkersRow, error) {
	ws, stop, err := startWorkers(n, o)
	if err != nil {
		return WorkersRow{}, err
	}
	defer stop()
	row := WorkersRow{Workers: n, Slots: n * o.Pool}
	urls := func(path string, count int) []string {
		out := make([]string, count)
		for i := range out {
			out[i] = fmt.Sprintf("%s%s?i=%d", ws[i%n].base, path, i) // dealt in turn
		}
		return out
	}
	// Generous bound for one burst: every request one after another, ten times over.
	timeout := time.Duration(o.Requests+o.Blocking)*o.Unit*10 + 5*time.Second
	if _, err := burstURLs(ctx, urls("/ping", o.Requests), timeout); err != nil { // warm-up
		return row, fmt.Errorf("warm-up: %w", err)
	}
	if row.Sync, err = burstURLs(ctx, urls("/sync", o.Requests), timeout); err != nil {
		return row, fmt.Errorf("sync burst: %w", err)
	}
	if row.Async, err = burstURLs(ctx, urls("/async", o.Requests), timeout); err != nil {
		return row, fmt.Errorf("async burst: %w", err)
	}

	// The blocking burst, and one ping per worker half a unit into it.
	var wg sync.WaitGroup
	var blockErr error
	wg.Go(func() { row.Blocking, blockErr = burstURLs(ctx, urls("/blocking", o.Blocking), timeout) })
	select {
	case <-time.After(o.Unit / 2):
	case <-ctx.Done():
	}
	pings := make([]time.Duration, n)
	var pingErr error
	var mu sync.Mutex
	var pw sync.WaitGroup
	for i, w := range ws {
		pw.Go(func() {
			t := time.Now()
			err := get(ctx, http.DefaultClient, w.base+"/ping?during=blocking")
			pings[i] = time.Since(t)
			if err != nil {
				mu.Lock()
				pingErr = err
				mu.Unlock()
			}
		})
	}
	pw.Wait()
	wg.Wait()
	if blockErr != nil {
		return row, fmt.Errorf("blocking burst: %w", blockErr)
	}
	if pingErr != nil {
		return row, fmt.Errorf("ping: %w", pingErr)
	}
	row.Ping = slices.Max(pings)

	// The in-memory counter: Requests requests, dealt in turn.
	if _, err := burstURLs(ctx, urls("/count", o.Requests), timeout); err != nil {
		return row, fmt.Errorf("count burst: %w", err)
	}
	row.Counter = int(ws[0].counter.Load())
	return row, nil
}

// burstURLs sends one GET to each url at the same moment, each on a fresh
// connection, and returns the time from their release to the last answer.
func burstURLs(ctx context.Context, urls []string, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	errs := make([]error, len(urls))
	ends := make([]time.Time, len(urls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() { // ends when its request is answered or ctx ends
			<-start
			errs[i] = get(ctx, client, u)
			ends[i] = time.Now()
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return 0, fmt.Errorf("request %d of %d: %w", i+1, len(urls), err)
		}
	}
	last := t0
	for _, e := range ends {
		if e.After(last) {
			last = e
		}
	}
	return last.Sub(t0), nil
}

// WorkersTable renders the workers experiment as an aligned terminal table.
func WorkersTable(rows []WorkersRow, o WorkersOptions) string {
	o, _ = o.withDefaults()
	out := [][]string{{"workers", "sync slots",
		fmt.Sprintf("%d × def sleep", o.Requests),
		fmt.Sprintf("%d × async await", o.Requests),
		fmt.Sprintf("%d × blocking async", o.Blocking),
		"/ping during it",
		fmt.Sprintf("one worker's counter (of %d)", o.Requests)}}
	for _, r := range rows {
		out = append(out, []string{fmt.Sprint(r.Workers), fmt.Sprint(r.Slots),
			formatDuration(r.Sync), formatDuration(r.Async), formatDuration(r.Blocking),
			formatDuration(r.Ping), fmt.Sprint(r.Counter)})
	}
	return aligned(out)
}

// parseInts parses a comma-separated list of whole numbers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the list is empty")
	}
	return out, nil
}
