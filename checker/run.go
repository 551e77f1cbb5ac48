package checker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// This file runs the checker's child processes: the build (`go test -c`)
// and one process of the compiled test binary per check. Every child gets
// its own process group, which is killed when the child ends, times out or
// is cancelled, and on Linux a parent-death signal and a session whose
// terminal hangs up when the tutor ends (see childSetup), so no child, and
// nothing it started without leaving the session, outlives a tutor that is
// killed with kill -9.

// stop says why the checker ended a process before it ended by itself.
type stop int

const (
	stopNone    stop = iota // the process ended by itself
	stopTimeout             // its deadline passed
	stopCancel              // the caller's context ended
)

// procSpec describes one child process.
type procSpec struct {
	path string
	args []string
	dir  string
	env  []string
	// out receives the child's stdout and stderr, in the order written,
	// from one goroutine.
	out io.Writer
	// limit is how long the child may run; 0 means no limit.
	limit time.Duration
	// dumpFirst asks a Go test process for its goroutine dump (SIGQUIT)
	// when the limit passes, and kills the group dumpGrace later.
	dumpFirst bool
}

// dumpGrace is how long a test process asked for its goroutine dump has to
// print it before its group is killed.
const dumpGrace = time.Second

// readGrace is how long the checker waits, after the child ended and its
// group was killed, for the output pipe to close. A process that left the
// group (Setsid) may still hold it; the checker stops reading then.
const readGrace = 500 * time.Millisecond

// procEnd is how a child process ended.
type procEnd struct {
	ran     bool   // it started and was waited for
	code    int    // its exit status; -1 if a signal ended it
	exited  bool   // it called exit (not ended by a signal)
	how     string // "exit status 1", "signal: killed"
	err     error  // why it could not start, or Wait's error
	stopped stop
	elapsed time.Duration
}

// exitCode is the child's exit status, or -1 if it was killed by a signal
// or never ran.
func (e procEnd) exitCode() int {
	if !e.ran {
		return -1
	}
	return e.code
}

// describe says how the process ended, for messages: "exit status 1",
// "signal: killed".
func (e procEnd) describe() string {
	if !e.ran {
		if e.err != nil {
			return e.err.Error()
		}
		return "not started"
	}
	return e.how
}

// runProc runs one child process to its end. onStart, if set, is called
// once the child has started.
func runProc(ctx context.Context, spec procSpec, onStart func()) procEnd {
	pr, pw, err := os.Pipe()
	if err != nil {
		return procEnd{err: fmt.Errorf("create output pipe: %w", err)}
	}
	defer pr.Close()
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir = spec.dir
	cmd.Env = spec.env
	cmd.Stdout, cmd.Stderr = pw, pw
	var release func()
	cmd.SysProcAttr, cmd.ExtraFiles, release = childSetup()
	defer release()

	start := time.Now()
	waited, err := startLocked(cmd)
	pw.Close() // the child holds its own copy
	if err != nil {
		return procEnd{err: fmt.Errorf("start %s: %w", filepath.Base(spec.path), err)}
	}
	pid := cmd.Process.Pid
	if onStart != nil {
		onStart()
	}

	// The reader ends when every holder of the pipe's write end has gone,
	// or when pr is closed below.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		_, _ = io.Copy(spec.out, pr)
	}()

	var end procEnd
	var deadline <-chan time.Time
	if spec.limit > 0 {
		t := time.NewTimer(spec.limit)
		defer t.Stop()
		deadline = t.C
	}
	dumping := false
	for !end.ran && end.err == nil {
		select {
		case w := <-waited:
			end.err = w.err
			if st := w.state; st != nil {
				end.ran, end.code, end.exited, end.how = true, st.ExitCode(), st.Exited(), st.String()
			}
		case <-ctx.Done():
			ctx = context.Background() // kill once
			end.stopped = stopCancel
			killGroup(pid)
		case <-deadline:
			end.stopped = stopTimeout
			if spec.dumpFirst && !dumping {
				dumping = true
				quit(cmd.Process)
				deadline = time.After(dumpGrace)
				continue
			}
			deadline = nil
			killGroup(pid)
		}
	}
	end.elapsed = time.Since(start)
	// Whatever the child started shares its group: end it all.
	killGroup(pid)
	select {
	case <-readDone:
	case <-time.After(readGrace):
		pr.Close() // a detached grandchild holds the pipe: stop reading
		<-readDone
	}
	if end.ran {
		end.err = nil // a non-zero exit is reported through code
	}
	return end
}

// waitResult is what Wait returned for a child.
type waitResult struct {
	state *os.ProcessState
	err   error
}

// startLocked starts cmd from a goroutine locked to its OS thread and waits
// for it there, so the thread that created the child (the one the Linux
// parent-death signal watches) lives as long as the child. The goroutine
// ends when the child has been waited for; its result arrives on the
// returned channel.
func startLocked(cmd *exec.Cmd) (<-chan waitResult, error) {
	started := make(chan error, 1)
	waited := make(chan waitResult, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = nil
		}
		waited <- waitResult{state: cmd.ProcessState, err: err}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return waited, nil
}

// runDir is one run's scratch directory: overlay map, test binary, reports
// and the go command's work files (GOTMPDIR). It holds a lock for as long
// as the run lasts, so a later tutor can tell it from a live run's.
type runDir struct {
	path string
	lock *os.File
}

// lockName is the file in a run directory its owner keeps locked.
const lockName = "owner.lock"

// staleAge is the age after which a run directory that has no lock file
// (left by an older tutor) is considered abandoned: longer than any run.
const staleAge = buildLimit + 10*time.Minute

// newRunDir creates and locks a run directory in scratch.
func newRunDir(scratch, prefix string) (*runDir, error) {
	p, err := os.MkdirTemp(scratch, prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("create a scratch directory: %w", err)
	}
	f, err := os.Create(filepath.Join(p, lockName))
	if err != nil {
		os.RemoveAll(p)
		return nil, fmt.Errorf("create a scratch directory: %w", err)
	}
	if _, err := tryLock(f); err != nil {
		f.Close()
		os.RemoveAll(p)
		return nil, fmt.Errorf("lock the scratch directory: %w", err)
	}
	return &runDir{path: p, lock: f}, nil
}

// remove deletes the directory and releases its lock.
func (d *runDir) remove() {
	os.RemoveAll(d.path)
	d.lock.Close()
}

// removeStale deletes the run directories in scratch whose owner is dead:
// their lock can be taken (the kernel released it when the owner ended), or,
// for directories of older tutors without a lock file, they are older than
// any run can be. Directories of live runs, in this tutor or another, stay.
// It returns how many it removed.
func removeStale(scratch string) int {
	entries, err := os.ReadDir(scratch)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !(strings.HasPrefix(name, "run-") || strings.HasPrefix(name, "race-")) {
			continue
		}
		dir := filepath.Join(scratch, name)
		if abandoned(dir) {
			if os.RemoveAll(dir) == nil {
				n++
			}
		}
	}
	return n
}

func abandoned(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
	if err != nil {
		info, serr := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist) && serr == nil && time.Since(info.ModTime()) > staleAge
	}
	defer f.Close() // closing releases the lock we may have taken
	free, err := tryLock(f)
	return err == nil && free
}
