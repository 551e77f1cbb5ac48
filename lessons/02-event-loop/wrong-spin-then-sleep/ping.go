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
	prepare() // CPU work before the await, as in FastAPI issue (b)
	c.Sleep(100 * time.Millisecond)
	return "pong"
}

// prepare stands for work done before the wait (parsing, hashing,
// validating): 50 ms of pure computation. The await that follows does not
// make it async: it runs on the loop.
func prepare() int {
	n := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; n++ {
	}
	return n
}
