// Package visits is a small page-visit counter. Every request counts one
// visit to a page, reports that visit to a slow downstream service and
// answers with the visit's number.
package visits

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// Downstream reports one visit to somewhere slow: in a real service, a
// database insert or an HTTP call to an analytics service. n is the visit's
// number for that page; the first visit is 1.
type Downstream func(ctx context.Context, page string, n int) error

// Service counts visits per page without a mutex: one atomic counter per
// page, kept in a sync.Map. Make one with [New].
type Service struct {
	downstream Downstream
	visits     sync.Map // page (string) → *atomic.Int64
}

// New returns a service that reports every visit to downstream. Any
// goroutine the service starts must end when ctx is done.
func New(ctx context.Context, downstream Downstream) *Service {
	return &Service{downstream: downstream}
}

// ServeHTTP handles GET /visit?page=NAME: it counts one visit to NAME,
// reports it downstream and answers with the visit's number.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := r.URL.Query().Get("page")
	if page == "" {
		http.Error(w, "missing ?page=", http.StatusBadRequest)
		return
	}

	// Add is one indivisible read-modify-write: two requests can never get
	// the same number, and nobody waits for anybody's downstream call.
	n := int(s.counter(page).Add(1))
	if err := s.downstream(r.Context(), page, n); err != nil {
		http.Error(w, fmt.Sprintf("report visit: %v", err), http.StatusBadGateway)
		return
	}
	fmt.Fprintln(w, n)
}

// counter returns page's counter, creating it on the first visit.
// LoadOrStore keeps exactly one counter per page even when two first visits
// race to create it.
func (s *Service) counter(page string) *atomic.Int64 {
	if c, ok := s.visits.Load(page); ok {
		return c.(*atomic.Int64)
	}
	c, _ := s.visits.LoadOrStore(page, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// Count returns how many visits to page have been counted.
func (s *Service) Count(page string) int {
	if c, ok := s.visits.Load(page); ok {
		return int(c.(*atomic.Int64).Load())
	}
	return 0
}
