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

// Handler returns the handler of GET /quote. It calls the backend once per
// request, at most lim.Slots calls at a time, and answers 200 with the
// price.
//
// Admission counts the requests in the handler, running or waiting: at
// most Slots + Slots*(Budget-Service)/Service (Little's law for the queue).
// A request beyond that is answered 503 at once. One that is admitted
// waits for a slot only while its budget still leaves time for a call: a
// timer ends the wait, so the re-check happens while it waits, not after.
func Handler(call Backend, lim Limits) http.Handler {
	slots := make(chan struct{}, lim.Slots)
	admit := int64(lim.Slots)
	if lim.Service > 0 && lim.Budget > lim.Service {
		admit += int64(lim.Slots) * int64(lim.Budget-lim.Service) / int64(lim.Service)
	}
	var inside atomic.Int64
	retry := strconv.FormatInt(int64((lim.Budget+time.Second-1)/time.Second), 10)
	busy := func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", retry)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "busy, retry later\n")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), lim.Budget)
		defer cancel()
		if inside.Add(1) > admit {
			inside.Add(-1)
			busy(w)
			return
		}
		defer inside.Add(-1)

		deadline, _ := ctx.Deadline()
		giveUp := time.NewTimer(time.Until(deadline) - lim.Service)
		defer giveUp.Stop()
		select {
		case slots <- struct{}{}:
		case <-giveUp.C: // no time left for a call
			busy(w)
			return
		case <-ctx.Done():
			return
		}
		defer func() { <-slots }()

		price, err := call(ctx)
		if err != nil {
			http.Error(w, "pricing backend: "+err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, price)
	})
}
