// Package pool runs a batch of jobs, such as calls to a slow service that
// accepts only a few requests at a time. Lesson 10 asks you to bound Run:
// at most limit jobs run at once, each in a goroutine started when a slot
// is free, and a job that panics is reported, not lost.
package pool

import (
	"fmt"

	"golang.org/x/sync/errgroup"
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

// Run runs every job once and returns their results in the order of jobs:
// results[i] is what jobs[i] returned. It returns when every job has ended.
//
// limit (at least 1) is how many jobs may run at once. errgroup's SetLimit
// makes g.Go wait for a free slot before it starts the goroutine. Jobs
// report errors in their Result, never to the group, so one failure stops
// nothing; a panic is recovered in the job's own goroutine, because the
// group does not recover it.
func Run(limit int, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	for i, job := range jobs {
		g.Go(func() error {
			results[i] = runOne(job)
			return nil
		})
	}
	g.Wait() // every func returns nil
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
