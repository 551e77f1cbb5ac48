// Package eventloop is lesson 02: one loop, one thing at a time.
package eventloop

import (
	"sync/atomic"
	"time"

	"github.com/gotutor/tutor/lessons/loop"
)

// waited remembers, across requests, that a Ping has already waited.
var waited atomic.Bool

// Ping waits the first time, off the loop, and remembers that it did: every
// later request answers at once. The first ten requests, sent together, all
// wait; anything sent after them skips the work.
func Ping(c *loop.Ctx) string {
	if waited.Load() {
		return "pong"
	}
	c.Sleep(100 * time.Millisecond)
	waited.Store(true)
	return "pong"
}
