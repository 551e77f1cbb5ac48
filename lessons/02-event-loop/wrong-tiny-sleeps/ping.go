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
	// Wait in 1 ms steps so the other requests get a chance in between.
	// (They do not: nothing here gives the loop away.)
	for range 100 {
		time.Sleep(time.Millisecond)
	}
	return "pong"
}
