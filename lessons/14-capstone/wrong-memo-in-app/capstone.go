// Package capstone is a small market-data API that was fine in testing and
// is slow and failing in production. It has three routes, and each one
// hides a trap this course has taught. Lesson 14 asks you to rescue it:
// meet every service-level objective under the checks' mixed load.
package capstone

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"

	"github.com/gotutor/tutor/lessons/loop"
)

// Deps are the service's dependencies. The checks pass in their own, and
// their numbers, so that nothing here can be written out by hand.
type Deps struct {
	// Quote asks the legacy pricing client for a symbol's price, e.g.
	// "ACME 123.45". The client is synchronous: the call blocks the
	// goroutine that makes it for about 100 ms, like a sync database
	// driver or requests.get in Python. It has no async version.
	Quote func(symbol string) string

	// Analyze computes an account's risk report, e.g. "acct-3 risk 4821".
	// It is pure CPU work: about one unit (50 ms on one idle core,
	// calibrated on your machine) and nothing to wait for.
	Analyze func(account string) string

	// Fetch asks the catalogue service for one item's title. It waits for
	// the network (about 80 ms) and returns when ctx is done. The
	// catalogue accepts at most Limit calls at once and answers
	// 429 Too Many Requests, as an error, to any call beyond that.
	Fetch func(ctx context.Context, id string) (string, error)

	// Limit is the most Fetch calls the catalogue accepts at once, as its
	// documentation states.
	Limit int
}

// New returns the service:
//
//	GET /health                 "ok"
//	GET /quote?symbol=ACME      the symbol's price, from Quote
//	GET /report?account=acct-3  the account's risk report, from Analyze
//	GET /search?ids=a,b,c       every item's title, from Fetch, joined with
//	                            commas in the order asked; 502 Bad Gateway
//	                            when a Fetch call failed
//
// Wrong: right limiters and pools, but each app remembers the price of
// every symbol it has quoted, in a map made by New, and answers a repeated
// symbol from it without calling Quote.
func New(deps Deps) *loop.App {
	app := loop.New(loop.Options{})
	// Two limiters, made once and shared by every request: one slot per
	// core for CPU work, and the catalogue's own limit for its calls. A
	// limiter made inside a handler would limit one request, not the
	// service.
	cores := make(chan struct{}, runtime.GOMAXPROCS(0))
	catalogue := make(chan struct{}, deps.Limit)

	var quoteMu sync.Mutex
	quotes := map[string]string{}

	app.Async("/health", func(c *loop.Ctx) string { return "ok" })

	// A blocking call with no async version goes to the pool, like a def
	// route or await run_in_threadpool(...) in FastAPI.
	app.Async("/quote", func(c *loop.Ctx) string {
		symbol := c.Request().FormValue("symbol")
		quoteMu.Lock()
		p, ok := quotes[symbol]
		quoteMu.Unlock()
		if ok {
			return p
		}
		var price string
		c.RunInPool(func() { price = deps.Quote(symbol) })
		quoteMu.Lock()
		quotes[symbol] = price
		quoteMu.Unlock()
		return price
	})

	// CPU work waits, off the loop, for a core of its own, outside the
	// pool's I/O slots: await run_in_executor(a process pool of one worker
	// per core, ...).
	app.Async("/report", func(c *loop.Ctx) string {
		account := c.Request().FormValue("account")
		var report string
		c.Await(func() {
			cores <- struct{}{}
			defer func() { <-cores }()
			report = deps.Analyze(account)
		})
		return report
	})

	// The fan-out takes a catalogue slot before each call's goroutine
	// starts, so all requests together never send more than Limit calls.
	app.Async("/search", func(c *loop.Ctx) string {
		ids := strings.Split(c.Request().FormValue("ids"), ",")
		ctx := c.Context()
		titles := make([]string, len(ids))
		errs := make([]error, len(ids))
		c.Await(func() {
			var wg sync.WaitGroup
			for i, id := range ids {
				select {
				case catalogue <- struct{}{}:
				case <-ctx.Done(): // the client has gone: stop asking
					errs[i] = ctx.Err()
					continue
				}
				wg.Go(func() { // ends when its Fetch call returns
					defer func() { <-catalogue }()
					titles[i], errs[i] = deps.Fetch(ctx, id)
				})
			}
			wg.Wait()
		})
		if err := errors.Join(errs...); err != nil {
			c.SetStatus(http.StatusBadGateway)
			return err.Error()
		}
		return strings.Join(titles, ",")
	})

	return app
}
