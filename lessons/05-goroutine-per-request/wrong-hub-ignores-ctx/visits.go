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

// Service counts visits per page. One hub goroutine owns the counts; request
// goroutines ask it for numbers and make the slow calls themselves. Make one
// with [New].
type Service struct {
	downstream Downstream
	next       chan query      // "count one visit, tell me its number"
	count      chan query      // "tell me the current count"
	done       <-chan struct{} // closed when the hub has stopped taking queries
}

// query is one question to the hub. reply has room for the answer, so the
// hub never waits for the asker.
type query struct {
	page  string
	reply chan int
}

// errStopped reports a query made after the service's context ended.
var errStopped = errors.New("visit counter stopped")

// New returns a service that reports every visit to downstream. Requests
// stop asking the hub once ctx is done, but the hub itself never stops.
func New(ctx context.Context, downstream Downstream) *Service {
	s := &Service{
		downstream: downstream,
		next:       make(chan query),
		count:      make(chan query),
		done:       ctx.Done(),
	}
	go s.run() // never ends: nothing tells it to stop
	return s
}

// run is the hub: the only goroutine that touches the counts. Each query
// costs it a map update and a buffered send, never a slow call. It has no
// case for ctx, so it waits for queries forever, even after ctx is done.
func (s *Service) run() {
	visits := map[string]int{}
	for {
		select {
		case q := <-s.next:
			visits[q.page]++
			q.reply <- visits[q.page]
		case q := <-s.count:
			q.reply <- visits[q.page]
		}
	}
}

// ask sends q's page to the hub on ch and returns the hub's answer. It gives
// up when ctx is done or the hub has stopped.
func (s *Service) ask(ctx context.Context, ch chan<- query, page string) (int, error) {
	q := query{page: page, reply: make(chan int, 1)}
	select {
	case ch <- q:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, errStopped
	}
	return <-q.reply, nil // the hub answers every query it takes
}

// ServeHTTP handles GET /visit?page=NAME: it counts one visit to NAME,
// reports it downstream and answers with the visit's number.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := r.URL.Query().Get("page")
	if page == "" {
		http.Error(w, "missing ?page=", http.StatusBadRequest)
		return
	}

	n, err := s.ask(r.Context(), s.next, page)
	if err != nil {
		http.Error(w, fmt.Sprintf("count visit: %v", err), http.StatusServiceUnavailable)
		return
	}
	// The slow call runs here, in this request's goroutine, so the hub is
	// free for the next request at once.
	if err := s.downstream(r.Context(), page, n); err != nil {
		http.Error(w, fmt.Sprintf("report visit: %v", err), http.StatusBadGateway)
		return
	}
	fmt.Fprintln(w, n)
}

// Count returns how many visits to page have been counted, or 0 once the
// service has stopped.
func (s *Service) Count(page string) int {
	n, err := s.ask(context.Background(), s.count, page)
	if err != nil {
		return 0
	}
	return n
}
