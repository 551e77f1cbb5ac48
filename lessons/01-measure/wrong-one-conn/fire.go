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

// Fire sends n GET requests to url at the same moment and returns one Span
// per request, once every request has finished.
//
// Each request runs in its own goroutine and writes only its own element of
// spans. All requests share one connection to the server.
func Fire(url string, n int) []Span {
	// One keep-alive connection is plenty, and kinder to the server than
	// opening n sockets.
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxConnsPerHost: 1},
	}
	spans := make([]Span, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		// Exits when its request has finished (the client's Timeout bounds it).
		wg.Go(func() {
			<-start
			spans[i] = get(client, url)
		})
	}
	close(start)
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
