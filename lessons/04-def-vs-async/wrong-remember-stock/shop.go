// Package shop is a small shop API with three endpoints, each doing a
// different kind of waiting. Lesson 04 asks you to declare each one the
// right way: async, sync, or async with a pool call.
package shop

import (
	"fmt"
	"sync/atomic"

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

// lastLeft remembers the warehouse's last answer across requests (0: none
// yet), to spare the warehouse a question per request.
var lastLeft atomic.Int64

// stock returns how many of the item are left: the remembered answer if
// there is one, otherwise the warehouse's, awaited off the loop.
func stock(c *loop.Ctx, svc Services) int {
	if v := lastLeft.Load(); v != 0 {
		return int(v)
	}
	var left int
	c.Await(func() { left = <-svc.Stock(c.Request().FormValue("item")) })
	lastLeft.Store(int64(left))
	return left
}

// Register declares the endpoints like the reference solution, except that
// the stock level is asked once and then remembered.
func Register(app *loop.App, svc Services) {
	app.Sync("/invoice", func(c *loop.Ctx) string {
		return svc.RenderInvoice(c.Request().FormValue("order"))
	})

	app.Async("/stock", func(c *loop.Ctx) string {
		return fmt.Sprint(stock(c, svc))
	})

	app.Async("/checkout", func(c *loop.Ctx) string {
		left := stock(c, svc)
		var pdf string
		c.RunInPool(func() { pdf = svc.RenderInvoice(c.Request().FormValue("order")) })
		return fmt.Sprintf("%s, %d left", pdf, left)
	})
}
