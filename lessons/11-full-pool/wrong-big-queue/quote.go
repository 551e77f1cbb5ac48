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
	"sync/atomic"
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

// This variant skips Little's law and gives the queue a generous ten
// requests per slot, trusting the re-check to refuse the ones that wait
// too long.
//
// Handler returns the handler of GET /quote. It calls the backend once per
// request, at most lim.Slots calls at a time, and answers 200 with the
// price.
//
// When every slot is busy, a request may wait in a queue whose length
// Little's law gives: the pool finishes Slots/Service calls per unit of
// time, and a request may wait Budget-Service for a slot, so about
// Slots*(Budget-Service)/Service requests can wait and still be served in
// time. A request that finds the queue full is answered 503 at once; one
// whose slot comes too late to finish within its budget is answered 503
// when it leaves the queue, without calling the backend.
func Handler(call Backend, lim Limits) http.Handler {
	slots := make(chan struct{}, lim.Slots)
	queue := int64(0)
	if lim.Budget > lim.Service && lim.Service > 0 {
		queue = int64(10 * lim.Slots)
	}
	var waiting atomic.Int64 // requests in the queue now
	retry := strconv.Itoa(int(math.Ceil(lim.Budget.Seconds())))

	reject := func(w http.ResponseWriter, why string) {
		w.Header().Set("Retry-After", retry)
		http.Error(w, why, http.StatusServiceUnavailable)
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(lim.Budget)
		select {
		case slots <- struct{}{}: // a slot is free: no queue
		default:
			if waiting.Add(1) > queue {
				waiting.Add(-1)
				reject(w, "busy: the queue is full")
				return
			}
			select {
			case slots <- struct{}{}:
				waiting.Add(-1)
			case <-r.Context().Done(): // the client went away
				waiting.Add(-1)
				return
			}
			// Leaving the queue: is there still time to do the work?
			if time.Until(deadline) < lim.Service {
				<-slots
				reject(w, "busy: no time left to serve this request")
				return
			}
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
