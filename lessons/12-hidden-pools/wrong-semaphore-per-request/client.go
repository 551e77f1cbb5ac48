package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to a service that accepts at
// most limit requests at once. The caller limits how many calls it makes at
// once; the client only keeps that many connections between bursts.
func NewClient(limit int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: limit, // the default keeps 2 and closes the rest
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
