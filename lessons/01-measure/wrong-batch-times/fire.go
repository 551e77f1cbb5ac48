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
// It times the batch instead of each request: every span gets the moment
// before the first request was started and the moment after the last one
// finished. The requests really overlap, but the spans say nothing about
// any one of them.
func Fire(url string, n int) []Span {
	client := &http.Client{Timeout: 5 * time.Second}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		// Exits when its request has finished (the client's Timeout bounds it).
		wg.Go(func() { errs[i] = get(client, url) })
	}
	wg.Wait()
	end := time.Now()
	spans := make([]Span, n)
	for i := range spans {
		spans[i] = Span{Start: start, End: end, Err: errs[i]}
	}
	return spans
}

// get sends one GET request, reads and closes the body, and returns why it
// failed, or nil.
func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	return err
}
