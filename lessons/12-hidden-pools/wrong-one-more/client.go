package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to a service that accepts at
// most limit requests at once, with one connection spare.
func NewClient(limit int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost:     limit + 1, // the limit, and one for good measure
			MaxIdleConnsPerHost: limit + 1,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
