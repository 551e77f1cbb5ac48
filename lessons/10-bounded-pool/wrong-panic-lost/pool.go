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

// Run bounds the jobs correctly and survives a panic, but throws the panic
// away: the job's Result stays empty, with no error.
func Run(limit int, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	slots := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, job := range jobs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			defer func() { recover() }()
			v, err := job()
			results[i] = Result{Value: v, Err: err}
		})
	}
	wg.Wait()
	return results
}
