// Package pool runs a batch of jobs, such as calls to a slow service that
// accepts only a few requests at a time. Lesson 10 asks you to bound Run:
// at most limit jobs run at once, each in a goroutine started when a slot
// is free, and a job that panics is reported, not lost.
package pool

import "fmt"

// Job is one piece of work: a call to a slow service, a query, a file to
// convert. It returns a value or an error; it may also panic.
type Job func() (string, error)

// Result is what one job returned. When the job panicked, Err says so and
// carries the value it panicked with.
type Result struct {
	Value string
	Err   error
}

// Run starts workers that take jobs from a channel, and counts results to
// know when the batch is done, but never closes the channel: the workers
// wait for ever after Run has returned.
func Run(limit int, jobs []Job) []Result {
	type done struct {
		i int
		r Result
	}
	results := make([]Result, len(jobs))
	next := make(chan int, len(jobs))
	out := make(chan done)
	for range min(max(limit, 1), len(jobs)) {
		go func() {
			for i := range next {
				out <- done{i, runOne(jobs[i])}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	for range jobs {
		d := <-out
		results[d.i] = d.r
	}
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
