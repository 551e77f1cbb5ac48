// Package diagnose is lesson 13's exercise: measure a service from the
// outside and name what limits it: its event loop, a lock, the CPU cores,
// or a pool.
package diagnose

import (
	"context"
	"fmt"
	"math"
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
func Diagnose(ctx context.Context, base string) (Diagnosis, error) {
	t1, err := Time(ctx, base+"/work")
	if err != nil {
		return Diagnosis{}, fmt.Errorf("time /work alone: %w", err)
	}
	n := max(4*runtime.GOMAXPROCS(0), 12)
	stalled := make(chan bool, 1)
	go func() { // ends within 2 t1: the probe has a deadline of its own
		time.Sleep(t1 / 2)
		probe, cancel := context.WithTimeout(ctx, 2*t1)
		defer cancel()
		_, err := Time(probe, base+"/health")
		stalled <- err != nil
	}()
	shots := Burst(ctx, base+"/work", n)
	healthStalled := <-stalled
	var sum, slowest time.Duration
	for _, s := range shots {
		if !s.OK() {
			return Diagnosis{}, fmt.Errorf("burst: %w", shotErr(s))
		}
		sum += s.Took()
		slowest = max(slowest, s.Took())
	}
	mean := float64(sum) / float64(n) / float64(t1) // in units of t1
	switch {
	case mean >= 3 && healthStalled: // one at a time: the mean is about n/2 units
		return Diagnosis{Bottleneck: Loop}, nil
	case mean >= 3:
		return Diagnosis{Bottleneck: Lock}, nil
	}
	rounds := math.Round(float64(slowest) / float64(t1))
	return Diagnosis{Bottleneck: Pool, Limit: int(math.Round(float64(n) / rounds))}, nil
}
