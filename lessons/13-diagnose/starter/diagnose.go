// Package diagnose is lesson 13's exercise: measure a service from the
// outside and name what limits it: its event loop, a lock, the CPU cores,
// or a pool.
package diagnose

import (
	"context"
	"errors"
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
	// TODO: time /work alone, then fire a burst, watch when its requests
	// finish (and whether /health still answers meanwhile), and name the
	// shape you see.
	return Diagnosis{}, errors.New("not diagnosed")
}
