// Package visits is a small page-visit counter. Every request counts one
// visit to a page, reports that visit to a slow downstream service and
// answers with the visit's number.
package visits

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Downstream reports one visit to somewhere slow: in a real service, a
// database insert or an HTTP call to an analytics service. n is the visit's
// number for that page; the first visit is 1.
type Downstream func(ctx context.Context, page string, n int) error

// Service counts visits per page. One hub goroutine owns the counts and does
// all the work; request goroutines hand it their visits. Make one with [New].
type Service struct {
	downstream Downstream
	visit      chan query      // "count and report one visit"
	count      chan query      // "tell me the current count"
	done       <-chan struct{} // closed when the hub has stopped taking queries
}

// query is one question to the hub. reply has room for the answer, so the
// hub never waits for the asker.
type query struct {
	ctx   context.Context
	page  string
	reply chan result
}

type result struct {
	n   int
	err error
}

var errStopped = errors.New("visit counter stopped")

// New returns a service that reports every visit to downstream. Its hub
// goroutine ends when ctx is done.
func New(ctx context.Context, downstream Downstream) *Service {
	s := &Service{
		downstream: downstream,
		visit:      make(chan query),
		count:      make(chan query),
		done:       ctx.Done(),
	}
	go s.run(ctx)
	return s
}

// run is the hub: the only goroutine that touches the counts, so no mutex
// is needed. It returns when ctx is done.
func (s *Service) run(ctx context.Context) {
	visits := map[string]int{}
	for {
		select {
		case q := <-s.visit:
			n := visits[q.page] + 1
			err := s.downstream(q.ctx, q.page, n)
			if err == nil {
				visits[q.page] = n
			}
			q.reply <- result{n, err}
		case q := <-s.count:
			q.reply <- result{n: visits[q.page]}
		case <-ctx.Done():
			return
		}
	}
}

// ask hands q to the hub on ch and returns the hub's answer. It gives up
// when ctx is done or the hub has stopped.
func (s *Service) ask(ctx context.Context, ch chan<- query, page string) result {
	q := query{ctx: ctx, page: page, reply: make(chan result, 1)}
	select {
	case ch <- q:
	case <-ctx.Done():
		return result{err: ctx.Err()}
	case <-s.done:
		return result{err: errStopped}
	}
	return <-q.reply // the hub answers every query it takes
}

// ServeHTTP handles GET /visit?page=NAME: it counts one visit to NAME,
// reports it downstream and answers with the visit's number.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := r.URL.Query().Get("page")
	if page == "" {
		http.Error(w, "missing ?page=", http.StatusBadRequest)
		return
	}
	res := s.ask(r.Context(), s.visit, page)
	if res.err != nil {
		http.Error(w, fmt.Sprintf("report visit: %v", res.err), http.StatusBadGateway)
		return
	}
	fmt.Fprintln(w, res.n)
}

// Count returns how many visits to page have been counted, or 0 once the
// service has stopped.
func (s *Service) Count(page string) int {
	return s.ask(context.Background(), s.count, page).n
}
