// Package visits is a small page-visit counter. Every request counts one
// visit to a page, reports that visit to a slow downstream service and
// answers with the visit's number.
package visits

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// Downstream reports one visit to somewhere slow: in a real service, a
// database insert or an HTTP call to an analytics service. n is the visit's
// number for that page; the first visit is 1.
type Downstream func(ctx context.Context, page string, n int) error

// Service counts visits per page. Make one with [New].
type Service struct {
	downstream Downstream

	mu       sync.Mutex
	visits   map[string]int  // page → visits counted so far
	reported map[string]bool // pages the downstream has accepted a visit for
}

// New returns a service that reports every visit to downstream. Any
// goroutine the service starts must end when ctx is done.
func New(ctx context.Context, downstream Downstream) *Service {
	return &Service{downstream: downstream, visits: map[string]int{}, reported: map[string]bool{}}
}

// ServeHTTP handles GET /visit?page=NAME: it counts one visit to NAME,
// reports it downstream and answers with the visit's number.
//
// Wrong: the count is right, but the service remembers, in a map made by
// New, every page the downstream has accepted a visit for, and skips the
// downstream call for later visits to that page.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := r.URL.Query().Get("page")
	if page == "" {
		http.Error(w, "missing ?page=", http.StatusBadRequest)
		return
	}

	n := s.next(page)
	// The slow call runs without the lock, so other requests count their
	// visits and make their own calls meanwhile. If it fails, number n stays
	// used: handing it back would need the lock for the whole call again.
	// Once the downstream knows the page, it need not hear of it again.
	s.mu.Lock()
	known := s.reported[page]
	s.mu.Unlock()
	if !known {
		if err := s.downstream(r.Context(), page, n); err != nil {
			http.Error(w, fmt.Sprintf("report visit: %v", err), http.StatusBadGateway)
			return
		}
		s.mu.Lock()
		s.reported[page] = true
		s.mu.Unlock()
	}
	fmt.Fprintln(w, n)
}

// next counts one visit to page and returns its number. The read and the
// write happen in one critical section, which lasts nanoseconds.
func (s *Service) next(page string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits[page]++
	return s.visits[page]
}

// Count returns how many visits to page have been counted.
func (s *Service) Count(page string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visits[page]
}
