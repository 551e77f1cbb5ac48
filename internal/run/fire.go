package run

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
)

// MaxFire is the most requests [Fire] sends at once.
const MaxFire = 200

// Fire sends n GET requests to url at once and returns one span per request,
// from when it was sent to when its answer was read, in ms from the first
// send. A request answered 2xx is "ok"; any other status or an error is
// "error". Each request gives up after timeout.
func Fire(ctx context.Context, url string, n int, timeout time.Duration) ([]checker.Span, error) {
	if n < 1 || n > MaxFire {
		return nil, fmt.Errorf("fire: N must be between 1 and %d, got %d", MaxFire, n)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}
	spans := make([]checker.Span, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Since(t0)
			outcome := "ok"
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err == nil {
				var res *http.Response
				res, err = client.Do(req)
				if err == nil {
					io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
					res.Body.Close()
					if res.StatusCode/100 != 2 {
						outcome = "error"
					}
				}
			}
			if err != nil {
				outcome = "error"
			}
			spans[i] = checker.Span{
				Label:   fmt.Sprintf("request %d", i+1),
				StartMS: ms(start),
				EndMS:   ms(time.Since(t0)),
				Outcome: outcome,
			}
		})
	}
	wg.Wait()
	return spans, ctx.Err()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// CleanRoute returns route as a path on the run server: it must start with
// "/" and name no other host.
func CleanRoute(route string) (string, error) {
	route = strings.TrimSpace(route)
	if route == "" {
		return "", fmt.Errorf("fire: empty route")
	}
	if !strings.HasPrefix(route, "/") || strings.HasPrefix(route, "//") || strings.ContainsAny(route, " \\\r\n#") {
		return "", fmt.Errorf("fire: the route must be a path such as /ping, got %q", route)
	}
	return route, nil
}
