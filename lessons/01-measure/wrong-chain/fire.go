// Package measure is a tiny load generator: it sends HTTP requests to a
// server and records when each one started and ended, so you can see
// whether the server handled them at the same time.
package measure

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Span is one request as the client saw it.
type Span struct {
	Start time.Time // just before the request was sent
	End   time.Time // after the whole response was read
	Err   error     // why the request failed; nil for a 200 OK
}

// Fire sends n GET requests to url, one goroutine per request, and returns
// the spans in order.
//
// To keep the spans in order, each goroutine waits until the previous one
// has finished before it sends its own request.
func Fire(url string, n int) []Span {
	client := &http.Client{Timeout: 5 * time.Second}
	spans := make([]Span, n)
	var wg sync.WaitGroup
	prev := make(chan struct{})
	close(prev) // the first request has nobody to wait for
	for i := range n {
		done := make(chan struct{})
		wait := prev
		// Exits when its request has finished, after the one before it.
		wg.Go(func() {
			<-wait
			spans[i] = get(client, url)
			close(done)
		})
		prev = done
	}
	wg.Wait()
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
