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
	// Any blocking wait is fine inside Await: the loop is free while the
	// function runs. Here the wait is a timer channel.
	timer := time.NewTimer(100 * time.Millisecond)
	defer timer.Stop()
	c.Await(func() { <-timer.C })
	return "pong"
}
