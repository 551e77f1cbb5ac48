package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to a service that accepts at
// most limit requests at once.
func NewClient(limit int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost: limit, // the downstream's stated limit
			IdleConnTimeout: 90 * time.Second,
		},
	}
}
