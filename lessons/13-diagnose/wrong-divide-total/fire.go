package diagnose

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Shot is one request of a burst, timed from the moment the burst began.
type Shot struct {
	Start, End time.Duration // when it was sent and when its answer had arrived
	Status     int           // the HTTP status; 0 when it failed or ctx ended first
	Err        error         // what went wrong, if anything
}

// OK reports whether the request was answered 200 OK.
func (s Shot) OK() bool { return s.Err == nil && s.Status == http.StatusOK }

// Took is how long the request took.
func (s Shot) Took() time.Duration { return s.End - s.Start }

// Burst sends n GET requests to url at the same moment, each on a
// connection of its own, and returns one Shot per request when every one
// has been answered or ctx is done: a request still waiting then is given
// up, with Err set. (Lesson 01's Fire, with a way to stop watching.)
func Burst(ctx context.Context, url string, n int) []Shot {
	client := newClient()
	defer client.CloseIdleConnections()
	shots := make([]Shot, n)
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range shots {
		wg.Go(func() { // ends when the request is answered or ctx is done
			shots[i] = get(ctx, client, begin, fmt.Sprintf("%s?shot=%d", url, i))
		})
	}
	wg.Wait()
	return shots
}

// Time sends one GET request to url and returns how long it took to be
// answered 200 OK.
func Time(ctx context.Context, url string) (time.Duration, error) {
	client := newClient()
	defer client.CloseIdleConnections()
	s := get(ctx, client, time.Now(), url)
	if !s.OK() {
		return s.Took(), fmt.Errorf("GET %s: %w", url, shotErr(s))
	}
	return s.Took(), nil
}

// newClient opens a fresh connection per request, so neither keep-alive
// (one request at a time per connection) nor a Transport's limits shape
// what you measure.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func get(ctx context.Context, client *http.Client, begin time.Time, url string) Shot {
	s := Shot{Start: time.Since(begin)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		var resp *http.Response
		resp, err = client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.Status = resp.StatusCode
		}
	}
	s.End = time.Since(begin)
	if err != nil {
		s.Status, s.Err = 0, err
	}
	return s
}

func shotErr(s Shot) error {
	if s.Err != nil {
		return s.Err
	}
	return fmt.Errorf("answered %d", s.Status)
}
