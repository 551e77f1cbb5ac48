package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to the inventory service,
// sized to the limit the inventory team told us about.
func NewClient(_ int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost:     12, // the inventory's documented limit
			MaxIdleConnsPerHost: 12,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
