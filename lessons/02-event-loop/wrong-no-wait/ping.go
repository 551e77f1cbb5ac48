// Package eventloop is lesson 02: one loop, one thing at a time.
package eventloop

import "github.com/gotutor/tutor/lessons/loop"

// Ping is an async handler (FastAPI's async def): its code runs on the loop.
// The checks serve it at /ping.
//
// Its job: wait 100 ms, as if for a slow downstream service, then answer
// "pong".
func Ping(c *loop.Ctx) string {
	// The wait was the problem, so it is gone. (So is the contract.)
	return "pong"
}
