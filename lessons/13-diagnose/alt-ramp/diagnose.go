// Package diagnose is lesson 13's exercise: measure a service from the
// outside and name what limits it: its event loop, a lock, the CPU cores,
// or a pool.
package diagnose

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Bottleneck is what limits a service.
type Bottleneck int

// The four bottlenecks of the course.
const (
	Loop  Bottleneck = iota + 1 // one event loop: a blocking call in an async handler stalls every route
	Lock                        // one mutex held across the slow work: one request at a time, other routes free
	Cores                       // CPU work: every request runs at once and shares GOMAXPROCS cores
	Pool                        // k slots: k requests at once, the rest queue
)

// String returns the bottleneck's name.
func (b Bottleneck) String() string {
	switch b {
	case Loop:
		return "Loop"
	case Lock:
		return "Lock"
	case Cores:
		return "Cores"
	case Pool:
		return "Pool"
	}
	return "unknown"
}

// Diagnosis is what Diagnose found.
type Diagnosis struct {
	Bottleneck Bottleneck
	Limit      int // for a Pool: how many requests it serves at once; 0 otherwise
}

// Diagnose measures the service at base and names its bottleneck. The
// service has two routes: GET base+"/work", the slow one, and GET
// base+"/health", which does nothing. Diagnose must return before ctx's
// deadline.
//
// It asks a different question from the wave count: what is the largest
// burst the service answers in one round? A big burst that answers nobody
// within 2 t1 is the cores; otherwise a binary search finds the largest
// burst served in one round (every request's time within t1/2 of the
// others'): 1 for a lock or the loop (told apart by /health), k for a pool
// of k.
func Diagnose(ctx context.Context, base string) (Diagnosis, error) {
	var t1 time.Duration // the fastest of three: /work alone
	for range 3 {
		d, err := Time(ctx, base+"/work")
		if err != nil {
			return Diagnosis{}, fmt.Errorf("time /work alone: %w", err)
		}
		if t1 == 0 || d < t1 {
			t1 = d
		}
	}
	n := max(4*runtime.GOMAXPROCS(0), 12) // 4 per core, and more than any pool

	// The big burst, and /health while it runs.
	health := make(chan time.Duration, 1)
	go func() { // ends within 2.5 t1: the probe has a deadline of its own
		select {
		case <-time.After(t1 / 2):
		case <-ctx.Done():
			health <- 0
			return
		}
		probe, cancel := context.WithTimeout(ctx, 2*t1)
		defer cancel()
		d, err := Time(probe, base+"/health")
		if err != nil {
			d = 2 * t1
		}
		health <- d
	}()
	if answered(ctx, base, n, 2*t1) == 0 {
		<-health
		return Diagnosis{Bottleneck: Cores}, nil
	}
	healthTook := <-health

	// The largest burst served in one round: fits(lo) holds, fits(hi) not.
	lo, hi := 1, n
	for hi-lo > 1 {
		if err := settle(ctx, t1); err != nil {
			return Diagnosis{}, err
		}
		mid := (lo + hi) / 2
		// A second round can never look like one, but one round can
		// look like two when the machine stalls: ask twice before
		// deciding it does not fit.
		if oneRound(ctx, base, mid, t1) || (settle(ctx, t1) == nil && oneRound(ctx, base, mid, t1)) {
			lo = mid
		} else {
			hi = mid
		}
	}
	switch {
	case lo > 1:
		return Diagnosis{Bottleneck: Pool, Limit: lo}, nil
	case healthTook >= t1:
		return Diagnosis{Bottleneck: Loop}, nil
	default:
		return Diagnosis{Bottleneck: Lock}, nil
	}
}

// answered sends a burst of m /work requests and counts those answered
// within window.
func answered(ctx context.Context, base string, m int, window time.Duration) int {
	burst, stop := context.WithTimeout(ctx, window)
	defer stop()
	count := 0
	for _, s := range Burst(burst, base+"/work", m) {
		if s.OK() {
			count++
		}
	}
	return count
}

// oneRound sends a burst of m /work requests and reports whether all of
// them were served in one round: every one answered, and their times
// (each from its own send, so a request sent late is not counted late)
// within t1/2 of each other. A second round takes about t1 more; 2.5 t1
// is long enough to see it.
func oneRound(ctx context.Context, base string, m int, t1 time.Duration) bool {
	burst, stop := context.WithTimeout(ctx, 5*t1/2)
	defer stop()
	var fastest, slowest time.Duration
	for i, s := range Burst(burst, base+"/work", m) {
		if !s.OK() {
			return false
		}
		if i == 0 || s.Took() < fastest {
			fastest = s.Took()
		}
		slowest = max(slowest, s.Took())
	}
	return slowest-fastest <= t1/2
}

// settle waits one t1, so that work left from the last burst (a handler
// that cannot be cancelled) is done before the next.
func settle(ctx context.Context, t1 time.Duration) error {
	select {
	case <-time.After(t1):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ramp: %w", ctx.Err())
	}
}
