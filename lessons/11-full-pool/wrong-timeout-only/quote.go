// Package quote serves GET /quote: every request asks a pricing backend
// for a price and answers it. The backend takes only a few calls at once,
// so the handler runs calls in a pool of slots. Lesson 11 asks you to
// decide what happens when the pool is full: queue what can still be
// served within the time budget, and turn the rest away at once.
package quote

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
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
// A request waits for a slot until its budget no longer leaves time for
// a call, then gets 503: a wait budget, but no bound on the queue.
func Handler(call Backend, lim Limits) http.Handler {
	slots := make(chan struct{}, lim.Slots)
	retry := strconv.Itoa(int(math.Ceil(lim.Budget.Seconds())))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(lim.Budget)
		wait := time.NewTimer(lim.Budget - lim.Service)
		defer wait.Stop()
		select {
		case slots <- struct{}{}:
		case <-wait.C:
			w.Header().Set("Retry-After", retry)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		defer func() { <-slots }()
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		price, err := call(ctx)
		if err != nil {
			http.Error(w, "pricing backend: "+err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, price)
	})
}
