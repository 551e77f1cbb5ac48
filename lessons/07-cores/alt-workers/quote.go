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

	done    <-chan struct{} // closed when the workers have been told to stop
	jobs    chan job        // quotes waiting for a worker
	workers int             // one per core
	pending atomic.Int64    // quotes admitted and not yet answered: queued or computing
}

// job is one quote handed to the workers.
type job struct {
	id       string
	deadline time.Time
	reply    chan string // buffered: the price, or "" when it was too late to start
}

// New returns the service's handler. Every request that reaches it
// carries a deadline: r.Context().Deadline() says when the client stops
// waiting (the checks set it; in production a gateway middleware would).
// Any goroutine the service starts must end when ctx is done.
//
// CPU work runs on a fixed set of workers, one per core, fed by a queue:
// the workers are the CPU slots.
func New(ctx context.Context, cfg Config, svc Services) http.Handler {
	s := &server{cfg: cfg, svc: svc, io: make(chan struct{}, cfg.IOSlots), workers: runtime.GOMAXPROCS(0), done: ctx.Done()}
	s.jobs = make(chan job, 16*s.workers)
	for range s.workers {
		go s.work(ctx) // exits when ctx is done
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quote", s.quote)
	mux.HandleFunc("GET /docs", s.docs)
	return mux
}

// work prices queued jobs one after another until ctx is done. A job that
// has waited so long that it can no longer be priced in time is answered
// "" without computing.
func (s *server) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.jobs:
			if time.Until(j.deadline) < s.cfg.Cost {
				j.reply <- ""
				continue
			}
			j.reply <- s.svc.Price(j.id)
		}
	}
}

// quote answers GET /quote?id=P1 with the policy's price, or 503 at once
// when the price could not be computed before the request's deadline.
func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	deadline, ok := r.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(time.Hour)
	}
	// Rounds of work ahead: the jobs admitted before this one, shared
	// among the workers, plus this job's own round. Counting in first and
	// checking after means two requests arriving together never both
	// take the last place.
	ahead := int(s.pending.Add(1) - 1)
	defer s.pending.Add(-1)
	finish := time.Now().Add(time.Duration(ahead/s.workers+1) * s.cfg.Cost)
	if finish.After(deadline) {
		http.Error(w, "too busy to price this before its deadline", http.StatusServiceUnavailable)
		return
	}
	j := job{id: r.FormValue("id"), deadline: deadline, reply: make(chan string, 1)}
	select {
	case s.jobs <- j:
	default:
		http.Error(w, "queue full", http.StatusServiceUnavailable)
		return
	}
	select {
	case price := <-j.reply:
		if price == "" {
			http.Error(w, "too late to price this before its deadline", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, price)
	case <-s.done:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}
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
