package stock

import (
	"net/http"
	"time"
)

// NewClient returns the HTTP client for calls to a service that accepts at
// most limit requests at once: a copy of http.DefaultTransport's settings
// (proxy from the environment, dial and TLS timeouts, HTTP/2), with both
// per-host pools sized to the service's limit.
func NewClient(limit int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = limit     // no more calls at once than the service accepts
	t.MaxIdleConnsPerHost = limit // and keep them all between bursts (the default is 2)
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}
