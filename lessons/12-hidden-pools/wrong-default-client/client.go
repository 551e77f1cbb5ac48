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
			MaxConnsPerHost:     limit, // the downstream's stated limit: no more, no less
			MaxIdleConnsPerHost: limit, // the default keeps 2 and closes the rest
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
