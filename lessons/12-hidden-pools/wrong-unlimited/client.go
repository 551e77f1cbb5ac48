package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to other services. The old
// limit of 2 made pages slow, so it is gone: every call goes out at once,
// and up to limit idle connections are kept between bursts.
func NewClient(limit int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: limit,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
