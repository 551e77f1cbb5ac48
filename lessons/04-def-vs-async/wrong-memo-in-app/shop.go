// Package shop is a small shop API with three endpoints, each doing a
// different kind of waiting. Lesson 04 asks you to declare each one the
// right way: async, sync, or async with a pool call.
package shop

import (
	"fmt"
	"sync"

	"github.com/gotutor/tutor/lessons/loop"
)

// Services are the two backends the shop talks to. The checks pass in
// their own, which take one time unit (50 ms) per call.
type Services struct {
	// RenderInvoice calls the vendor's PDF library and returns the file
	// name. The library has no async version: the call blocks the goroutine
	// that makes it until the PDF is done, like a C extension or requests.get
	// in Python. You cannot await it.
	RenderInvoice func(order string) string

	// Stock asks the warehouse service how many of an item are left,
	// through an async client: Stock returns at once, and the answer
	// arrives on the channel one unit later. Receiving it is a wait you can
	// await (inside c.Await).
	Stock func(item string) <-chan int
}

// Register declares the shop's endpoints on app. The checks call it with an
// app whose pool has 40 slots, then send 120 requests at once to each
// endpoint.
//
// Wrong: right declarations, but each app remembers the warehouse's answer
// per item in a map made by Register, so later requests never ask it.
func Register(app *loop.App, svc Services) {
	var mu sync.Mutex
	stock := map[string]int{}
	ask := func(item string) int {
		mu.Lock()
		n, ok := stock[item]
		mu.Unlock()
		if ok {
			return n
		}
		n = <-svc.Stock(item)
		mu.Lock()
		stock[item] = n
		mu.Unlock()
		return n
	}
	// GET /invoice?order=A7 renders the order's invoice: one blocking call.
	// Nothing to await, so it is a sync route (FastAPI's plain def): it runs
	// in a pool slot and blocks only that slot.
	app.Sync("/invoice", func(c *loop.Ctx) string {
		return svc.RenderInvoice(c.Request().FormValue("order"))
	})

	// GET /stock?item=mug answers how many mugs are left: one awaitable
	// wait. Async, and the wait is awaited: the loop is free meanwhile and
	// no pool slot is used, so any number of requests can wait at once.
	app.Async("/stock", func(c *loop.Ctx) string {
		var left int
		c.Await(func() { left = ask(c.Request().FormValue("item")) })
		return fmt.Sprint(left)
	})

	// GET /checkout?order=A7&item=mug checks the stock (awaitable), then
	// renders the invoice (blocking). Async: await the stock, and hand only
	// the blocking call to the pool (await run_in_threadpool), so a slot is
	// held for the render alone.
	app.Async("/checkout", func(c *loop.Ctx) string {
		var left int
		c.Await(func() { left = ask(c.Request().FormValue("item")) })
		var pdf string
		c.RunInPool(func() { pdf = svc.RenderInvoice(c.Request().FormValue("order")) })
		return fmt.Sprintf("%s, %d left", pdf, left)
	})
}
