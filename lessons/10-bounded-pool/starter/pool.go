// Package pool runs a batch of jobs, such as calls to a slow service that
// accepts only a few requests at a time. Lesson 10 asks you to bound Run:
// at most limit jobs run at once, each in a goroutine started when a slot
// is free, and a job that panics is reported, not lost.
package pool

import "sync"

// Job is one piece of work: a call to a slow service, a query, a file to
// convert. It returns a value or an error; it may also panic.
type Job func() (string, error)

// Result is what one job returned. When the job panicked, Err says so and
// carries the value it panicked with.
type Result struct {
	Value string
	Err   error
}

// Run runs every job once and returns their results in the order of jobs:
// results[i] is what jobs[i] returned. It returns when every job has ended.
//
// limit (at least 1) is how many jobs may run at once. This version ignores
// it: it starts a goroutine for every job at once.
func Run(limit int, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			v, err := job()
			results[i] = Result{Value: v, Err: err}
		})
	}
	wg.Wait()
	return results
}
