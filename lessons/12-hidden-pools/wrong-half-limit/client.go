package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to a service that accepts at
// most limit requests at once: it keeps up to limit connections to the
// service, uses them all, and keeps them all between bursts.
func NewClient(limit int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost:     max(1, limit/2), // half the limit: room for the other services calling it
			MaxIdleConnsPerHost: limit,           // the default keeps 2 and closes the rest
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
