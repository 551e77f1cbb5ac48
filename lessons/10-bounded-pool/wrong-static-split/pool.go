// Package pool runs a batch of jobs, such as calls to a slow service that
// accepts only a few requests at a time. Lesson 10 asks you to bound Run:
// at most limit jobs run at once, each in a goroutine started when a slot
// is free, and a job that panics is reported, not lost.
package pool

import (
	"fmt"
	"sync"
)

// Job is one piece of work: a call to a slow service, a query, a file to
// convert. It returns a value or an error; it may also panic.
type Job func() (string, error)

// Result is what one job returned. When the job panicked, Err says so and
// carries the value it panicked with.
type Result struct {
	Value string
	Err   error
}

// Run splits the jobs between limit workers ahead of time: worker w runs
// jobs w, w+limit, w+2·limit and so on. A worker whose jobs are short
// finishes early and sits idle while another worker's jobs still wait.
func Run(limit int, jobs []Job) []Result {
	limit = max(limit, 1)
	results := make([]Result, len(jobs))
	var wg sync.WaitGroup
	for w := range min(limit, len(jobs)) {
		wg.Go(func() {
			for i := w; i < len(jobs); i += limit {
				results[i] = runOne(jobs[i])
			}
		})
	}
	wg.Wait()
	return results
}

// runOne runs one job and turns a panic into an error in its Result.
func runOne(job Job) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Err: fmt.Errorf("job panicked: %v", p)}
		}
	}()
	v, err := job()
	return Result{Value: v, Err: err}
}
