// Package report serves GET /report: it runs a report generator, a
// CPU-heavy program, as a child process and answers what the program
// prints. Some reports never finish in time. Lesson 09 asks you to put a
// hard time limit on the job: answer 504 when it runs too long, and make
// sure the job and every process it started are gone.
package report

import (
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

// Handler returns the handler of GET /report. It runs the job once per
// request and answers 200 with the job's standard output, or 504 Gateway
// Timeout when the job has not finished within its Limit.
//
// This is the time-limit recipe from the FastAPI thread, translated: wait
// for the program's output, but stop waiting after Limit.
func Handler(job Job) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			out []byte
			err error
		}
		done := make(chan result, 1)
		go func() { // exits when the program has exited and closed its output
			out, err := exec.Command(job.Path, job.Args...).Output()
			done <- result{out, err}
		}()
		select {
		case res := <-done:
			if res.err != nil {
				var exit *exec.ExitError
				if errors.As(res.err, &exit) {
					http.Error(w, "report failed: "+exit.String(), http.StatusBadGateway)
					return
				}
				http.Error(w, "report: "+res.err.Error(), http.StatusInternalServerError)
				return
			}
			w.Write(res.out)
		case <-time.After(job.Limit):
			http.Error(w, "report took longer than "+job.Limit.String(), http.StatusGatewayTimeout)
		}
	})
}
