// Package quote serves GET /quote: every request asks a pricing backend
// for a price and answers it. The backend takes only a few calls at once,
// so the handler runs calls in a pool of slots. Lesson 11 asks you to
// decide what happens when the pool is full: queue what can still be
// served within the time budget, and turn the rest away at once.
package quote

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Backend asks the pricing service for a price. It waits for the service
// until it answers or ctx is done; then it returns ctx's error. Pass it the
// request's context, or one derived from it.
type Backend func(ctx context.Context) (string, error)

// Limits describes the pool and the promise the endpoint makes.
type Limits struct {
	// Slots is how many backend calls may run at once.
	Slots int
	// Budget is the time within which every request must be answered,
	// counted from the moment it reaches the handler.
	Budget time.Duration
	// Service is how long one backend call typically takes.
	Service time.Duration
}

// Handler returns the handler of GET /quote. It calls the backend once per
// request, at most lim.Slots calls at a time, and answers 200 with the
// price.
//
// When every slot is busy, a request waits for one: for as long as it
// takes.
func Handler(call Backend, lim Limits) http.Handler {
	slots := make(chan struct{}, lim.Slots)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots <- struct{}{} // wait for a free slot
		defer func() { <-slots }()

		price, err := call(r.Context())
		if err != nil {
			http.Error(w, "pricing backend: "+err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, price)
	})
}
