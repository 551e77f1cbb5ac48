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
func Diagnose(ctx context.Context, base string) (Diagnosis, error) {
	n := max(4*runtime.GOMAXPROCS(0), 12)
	stalled := make(chan bool, 1)
	go func() { // ends within 400 ms: the probe has a deadline of its own
		time.Sleep(100 * time.Millisecond) // the burst is under way
		probe, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := Time(probe, base+"/health")
		stalled <- err != nil
	}()
	// No time wasted alone: the burst's first answer says how long /work takes.
	shots := Burst(ctx, base+"/work", n)
	healthStalled := <-stalled
	var done []time.Duration
	for _, s := range shots {
		if s.OK() {
			done = append(done, s.End)
		}
	}
	if len(done) == 0 {
		return Diagnosis{}, fmt.Errorf("burst of %d: no answer", n)
	}
	slices.Sort(done)
	t1 := done[0]
	first := 0
	for _, end := range done {
		if end <= done[0]+t1/2 {
			first++
		}
	}
	switch {
	case first >= 2:
		return Diagnosis{Bottleneck: Pool, Limit: first}, nil
	case healthStalled:
		return Diagnosis{Bottleneck: Loop}, nil
	default:
		return Diagnosis{Bottleneck: Lock}, nil
	}
}
