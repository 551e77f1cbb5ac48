// Package quote is an insurance quoting service. GET /quote prices a
// policy with a simulation model: pure CPU work. GET /docs asks the
// document store whether a policy's paperwork is ready: pure waiting.
// Lesson 07 asks you to bound the CPU work by the cores and to turn away
// what cannot be answered in time.
package quote

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Config sizes the service. The checks pass their own values.
type Config struct {
	// Cost is how long one Price call takes on a core of its own: about
	// 50 ms of CPU (the checks measure it on your machine).
	Cost time.Duration
	// IOSlots is how many requests may wait on the document store at
	// once, like FastAPI's 40 thread-pool tokens. The checks use four per
	// core.
	IOSlots int
}

// Services are what the handlers call. The checks pass in their own.
type Services struct {
	// Price runs the pricing model for one policy and returns its price,
	// e.g. "412.50". It is pure computation: it keeps one core busy for
	// Cost, and it waits for nothing.
	Price func(id string) string
	// Docs asks the document store about a policy's paperwork. It waits
	// for the network and hardly uses the CPU.
	Docs func(ctx context.Context, id string) (string, error)
}

// server holds the service's state. Make one with New.
type server struct {
	cfg Config
	svc Services
	io  chan struct{} // the I/O slots: one token per request waiting on the store
}

// New returns the service's handler. Every request that reaches it
// carries a deadline: r.Context().Deadline() says when the client stops
// waiting (the checks set it; in production a gateway middleware would).
// Any goroutine the service starts must end when ctx is done.
//
// TODO(lesson 07): /quote starts as many computations at once as there
// are requests, so a burst makes every one of them slow and all of them
// late. Bound the CPU work by the cores, keep it out of the I/O slots, and
// answer 503 at once to what cannot be priced before its deadline.
func New(ctx context.Context, cfg Config, svc Services) http.Handler {
	s := &server{cfg: cfg, svc: svc, io: make(chan struct{}, cfg.IOSlots)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quote", s.quote)
	mux.HandleFunc("GET /docs", s.docs)
	return mux
}

// quote answers GET /quote?id=P1 with the policy's price.
func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, s.svc.Price(r.FormValue("id")))
}

// docs answers GET /docs?id=P1 with the state of the policy's paperwork.
// It holds one I/O slot while it waits for the store.
func (s *server) docs(w http.ResponseWriter, r *http.Request) {
	select {
	case s.io <- struct{}{}:
	case <-r.Context().Done():
		http.Error(w, "no I/O slot before the deadline", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-s.io }()
	state, err := s.svc.Docs(r.Context(), r.FormValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprint(w, state)
}
