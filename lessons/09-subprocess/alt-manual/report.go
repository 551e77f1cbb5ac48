//go:build unix

// Package report serves GET /report: it runs a report generator, a
// CPU-heavy program, as a child process and answers what the program
// prints. Some reports never finish in time. Lesson 09 asks you to put a
// hard time limit on the job: answer 504 when it runs too long, and make
// sure the job and every process it started are gone.
package report

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
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

// Handler returns the handler of GET /report. It runs the job without
// exec.CommandContext: Start, Wait in a goroutine, and a timer. When the
// limit passes (or the client goes away) it kills the job's process group
// and still waits for Wait, so every process has been reaped or signalled
// before the answer.
func Handler(job Job) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(job.Limit)
		defer timer.Stop()
		cmd := exec.Command(job.Path, job.Args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = 100 * time.Millisecond // bounds the wait for a process that escaped the group
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			http.Error(w, "report: "+err.Error(), http.StatusInternalServerError)
			return
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }() // exits when the job has exited and its output is closed
		killGroup := func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // a negative pid: the whole group
			<-done
		}
		select {
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case errors.As(err, &exit):
				http.Error(w, "report failed: "+exit.String(), http.StatusBadGateway)
			case err != nil:
				http.Error(w, "report: "+err.Error(), http.StatusInternalServerError)
			default:
				w.Write(out.Bytes())
			}
		case <-timer.C:
			killGroup()
			http.Error(w, "report took longer than "+job.Limit.String(), http.StatusGatewayTimeout)
		case <-r.Context().Done():
			killGroup() // nobody is waiting for the report any more
		}
	})
}
