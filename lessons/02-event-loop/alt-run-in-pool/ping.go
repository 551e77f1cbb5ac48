// Package eventloop is lesson 02: one loop, one thing at a time.
package eventloop

import (
	"time"

	"github.com/gotutor/tutor/lessons/loop"
)

// Ping is an async handler (FastAPI's async def): its code runs on the loop.
// The checks serve it at /ping.
//
// Its job: wait 100 ms, as if for a slow downstream service, then answer
// "pong".
func Ping(c *loop.Ctx) string {
	// Hand the blocking call to the pool, like run_in_threadpool: the loop
	// is free while a pool slot sleeps. It works, but each waiting request
	// occupies one of the pool's 40 slots (lesson 04 counts the cost).
	c.RunInPool(func() { time.Sleep(100 * time.Millisecond) })
	return "pong"
}
