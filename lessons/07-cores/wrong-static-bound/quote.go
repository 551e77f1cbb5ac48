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
	"runtime"
	"sync/atomic"
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
	cpu *cpuLimiter   // the CPU slots: one token per Price call running
}

// cpuLimiter lets at most one computation per core run at once, and turns
// away, at once, the requests that could not be priced before their
// deadline.
type cpuLimiter struct {
	slots chan struct{} // one token per core
	cost  time.Duration // how long one computation takes on a core of its own
	ahead atomic.Int64  // admitted computations not yet finished: waiting or running
}

// admit reports whether a request arriving now with this deadline can
// still be priced in time, given the computations already ahead of it. An
// admitted request must call done when it leaves, priced or not.
func (l *cpuLimiter) admit(deadline time.Time) bool {
	// A fixed queue: room for four requests per core, because a
	// deadline of 200 ms holds four costs of 50 ms. It never looks at
	// the deadline this request actually has.
	n := l.ahead.Add(1) - 1 // computations ahead of this one
	if n >= 4*int64(cap(l.slots)) {
		l.ahead.Add(-1)
		return false
	}
	return true
}

func (l *cpuLimiter) done() { l.ahead.Add(-1) }

// New returns the service's handler. Every request that reaches it
// carries a deadline: r.Context().Deadline() says when the client stops
// waiting (the checks set it; in production a gateway middleware would).
// Any goroutine the service starts must end when ctx is done.
func New(ctx context.Context, cfg Config, svc Services) http.Handler {
	s := &server{
		cfg: cfg,
		svc: svc,
		io:  make(chan struct{}, cfg.IOSlots),
		cpu: &cpuLimiter{slots: make(chan struct{}, runtime.GOMAXPROCS(0)), cost: cfg.Cost},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quote", s.quote)
	mux.HandleFunc("GET /docs", s.docs)
	return mux
}

// quote answers GET /quote?id=P1 with the policy's price, or 503 at once
// when the price could not be computed before the request's deadline. It
// takes a CPU slot, never an I/O slot.
func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	deadline, ok := r.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(time.Hour) // no deadline: anything is in time
	}
	if !s.cpu.admit(deadline) {
		http.Error(w, "too busy to price this before its deadline", http.StatusServiceUnavailable)
		return
	}
	defer s.cpu.done()
	select {
	case s.cpu.slots <- struct{}{}:
	case <-r.Context().Done():
		http.Error(w, "no core free before the deadline", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-s.cpu.slots }()
	// The queue may have been slower than the estimate: look again.
	if time.Until(deadline) < s.cfg.Cost {
		http.Error(w, "too late to price this before its deadline", http.StatusServiceUnavailable)
		return
	}
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
