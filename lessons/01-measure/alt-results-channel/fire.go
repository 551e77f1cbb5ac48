// Package measure is a tiny load generator: it sends HTTP requests to a
// server and records when each one started and ended, so you can see
// whether the server handled them at the same time.
package measure

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// Span is one request as the client saw it.
type Span struct {
	Start time.Time // just before the request was sent
	End   time.Time // after the whole response was read
	Err   error     // why the request failed; nil for a 200 OK
}

// Fire sends n GET requests to url at once and returns one Span per request,
// once every request has finished.
//
// Each goroutine sends its Span on a channel with room for all n, so no
// goroutine ever blocks on the send; Fire receives exactly n of them. The
// spans come back in the order the requests finished.
func Fire(url string, n int) []Span {
	client := &http.Client{Timeout: 5 * time.Second}
	results := make(chan Span, n)
	for range n {
		// Exits right after sending its one Span (the client's Timeout
		// bounds the request; the buffer means the send never waits).
		go func() { results <- get(client, url) }()
	}
	spans := make([]Span, 0, n)
	for range n {
		spans = append(spans, <-results)
	}
	return spans
}

// get sends one GET request and times it, from just before sending until
// the body has been read and closed.
func get(client *http.Client, url string) Span {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return Span{Start: start, End: time.Now(), Err: err}
	}
	// Read the body to the end and close it: only then can the client
	// reuse the connection or let it go.
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	return Span{Start: start, End: time.Now(), Err: err}
}
