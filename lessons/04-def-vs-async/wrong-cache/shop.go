// Package shop is lesson 04: sync routes and the 40-slot pool.
package shop

import (
	"fmt"
	"sync"

	"github.com/gotutor/tutor/lessons/loop"
)

// Services are the shop's backends. The checks pass their own.
type Services struct {
	// RenderInvoice renders an order's invoice as a PDF. It is a blocking
	// library call with no async version.
	RenderInvoice func(order string) string
	// Stock asks the warehouse how many of an item are left. The answer
	// arrives on the channel; waiting for it is a wait, like awaiting a
	// network call.
	Stock func(item string) <-chan int
}

// invoices remembers every invoice rendered so far, across requests: an
// order's invoice never changes, so why render it twice?
var (
	mu       sync.Mutex
	invoices = map[string]string{}
)

// render returns the order's invoice, rendering it only the first time.
func render(svc Services, order string) string {
	mu.Lock()
	pdf, ok := invoices[order]
	mu.Unlock()
	if ok {
		return pdf
	}
	pdf = svc.RenderInvoice(order)
	mu.Lock()
	invoices[order] = pdf
	mu.Unlock()
	return pdf
}

// Register declares the shop's endpoints on app, like the reference
// solution, except that renders are cached across requests.
func Register(app *loop.App, svc Services) {
	app.Sync("/invoice", func(c *loop.Ctx) string {
		return render(svc, c.Request().FormValue("order"))
	})

	app.Async("/stock", func(c *loop.Ctx) string {
		var left int
		c.Await(func() { left = <-svc.Stock(c.Request().FormValue("item")) })
		return fmt.Sprint(left)
	})

	app.Async("/checkout", func(c *loop.Ctx) string {
		var left int
		c.Await(func() { left = <-svc.Stock(c.Request().FormValue("item")) })
		var pdf string
		c.RunInPool(func() { pdf = render(svc, c.Request().FormValue("order")) })
		return fmt.Sprintf("%s, %d left", pdf, left)
	})
}
