// Package diagnose is lesson 13's exercise: measure a service from the
// outside and name what limits it: its event loop, a lock, the CPU cores,
// or a pool.
package diagnose

import (
	"context"
	"fmt"
	"runtime"
	"slices"
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
// It times /work alone (t1), then sends a burst of /work requests and
// reads the shape of their completions against t1: nothing back for 2 t1
// is the cores; a first wave of k is a pool of k; one at a time is a lock
// or the loop, and the loop also stalls /health.
func Diagnose(ctx context.Context, base string) (Diagnosis, error) {
	var t1 time.Duration // /work alone: the faster of two, since noise only adds
	for range 2 {
		d, err := Time(ctx, base+"/work")
		if err != nil {
			return Diagnosis{}, fmt.Errorf("time /work alone: %w", err)
		}
		if t1 == 0 || d < t1 {
			t1 = d
		}
	}

	// More requests than cores (4 per core), and more than any pool here.
	n := max(4*runtime.GOMAXPROCS(0), 12)
	burstCtx, stop := context.WithTimeout(ctx, 5*t1/2) // enough to see every shape
	defer stop()
	stalled := make(chan bool, 1)
	go func() { // ends within 2 t1: the probe has a deadline of its own
		select {
		case <-time.After(t1 / 2): // the burst is under way
		case <-ctx.Done():
			stalled <- false
			return
		}
		probe, cancel := context.WithTimeout(ctx, 3*t1/2)
		defer cancel()
		_, err := Time(probe, base+"/health")
		stalled <- err != nil
	}()
	shots := Burst(burstCtx, base+"/work", n)
	healthStalled := <-stalled
	if ctx.Err() != nil {
		return Diagnosis{}, fmt.Errorf("burst of %d: %w", n, ctx.Err())
	}

	var done []time.Duration
	for _, s := range shots {
		if s.OK() {
			done = append(done, s.End)
		}
	}
	slices.Sort(done)
	if len(done) == 0 || done[0] > 2*t1 {
		return Diagnosis{Bottleneck: Cores}, nil // all of them share the cores: none finishes early
	}
	first := 0 // the first wave: those that finished with the first one
	for _, end := range done {
		if end <= done[0]+t1/2 {
			first++
		}
	}
	switch {
	case first >= 2:
		// Size the pool from the total time instead of counting: n
		// requests take ⌈n/k⌉ rounds of t1, so k is about n / rounds.
		all := Burst(ctx, base+"/work", n)
		var last time.Duration
		for _, s := range all {
			last = max(last, s.End)
		}
		rounds := max(1, int((last+t1/2)/t1))
		return Diagnosis{Bottleneck: Pool, Limit: (n + rounds - 1) / rounds}, nil
	case healthStalled:
		return Diagnosis{Bottleneck: Loop}, nil
	default:
		return Diagnosis{Bottleneck: Lock}, nil
	}
}
