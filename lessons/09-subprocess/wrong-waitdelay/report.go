// Package report serves GET /report: it runs a report generator, a
// CPU-heavy program, as a child process and answers what the program
// prints. Some reports never finish in time. Lesson 09 asks you to put a
// hard time limit on the job: answer 504 when it runs too long, and make
// sure the job and every process it started are gone.
package report

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"time"
)

// Job is the program the handler runs, once per request.
type Job struct {
	// Path is the program to run and Args its arguments (without the
	// program's name). The checks pass a program of their own here.
	Path string
	Args []string

	// Limit is how long one run may take, counted from the moment the
	// request arrives.
	Limit time.Duration
}

// Handler returns the handler of GET /report. exec.CommandContext kills the
// job when the limit passes, and WaitDelay stops waiting for the output
// pipe 100 ms later, so the answer is on time.
func Handler(job Job) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), job.Limit)
		defer cancel()
		cmd := exec.CommandContext(ctx, job.Path, job.Args...)
		cmd.WaitDelay = 100 * time.Millisecond
		out, err := cmd.Output()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			http.Error(w, "report took longer than "+job.Limit.String(), http.StatusGatewayTimeout)
		case err != nil:
			http.Error(w, "report: "+err.Error(), http.StatusBadGateway)
		default:
			w.Write(out)
		}
	})
}
