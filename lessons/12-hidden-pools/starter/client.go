package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client the shop uses for calls to other
// services. Someone wrote it long ago, to be kind to the services we call.
func NewClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost: 2, // do not overwhelm anyone
			IdleConnTimeout: 90 * time.Second,
		},
	}
}
