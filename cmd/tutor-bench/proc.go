package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lines collects what a process prints, line by line, for readers that go
// through it with their own cursor.
type lines struct {
	mu      sync.Mutex
	all     []string
	partial []byte
	more    chan struct{} // has a value when lines were added since the last wait
}

func newLines() *lines { return &lines{more: make(chan struct{}, 1)} }

// Write implements io.Writer; exec's copying goroutine calls it.
func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.all = append(l.all, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

// len returns how many complete lines there are.
func (l *lines) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// at waits until line i exists and returns it; ok is false if the deadline
// passed or ctx ended first.
func (l *lines) at(ctx context.Context, i int, deadline time.Time) (string, bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		l.mu.Lock()
		if i < len(l.all) {
			s := l.all[i]
			l.mu.Unlock()
			return s, true
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-t.C:
			return "", false
		case <-ctx.Done():
			return "", false
		}
	}
}

// text returns every line so far, for error messages.
func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n") + "\n" + string(l.partial)
}

// proc is a long-running tutor process.
type proc struct {
	cmd    *exec.Cmd
	out    *lines
	errOut *lines
}

// startProc starts name with args; env is added to this process's environment.
func startProc(name string, env []string, args ...string) (*proc, error) {
	p := &proc{out: newLines(), errOut: newLines()}
	p.cmd = exec.Command(name, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.errOut
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// stop interrupts the process like Ctrl-C and waits for it, killing it if it
// has not ended within 10 s.
func (p *proc) stop() error {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	// This goroutine ends when the process has been waited for.
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
		return errors.New("did not stop within 10 s of an interrupt; killed")
	}
}

// rss returns the resident set size of process pid in bytes, from
// /proc/PID/status (VmRSS); children are not included.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("process %d: no VmRSS", pid)
}

// sampler records the peak resident size of a process, sampling every 20 ms
// until stopped.
type sampler struct {
	stopc chan struct{}
	done  chan int64
}

func sampleRSS(pid int) *sampler {
	s := &sampler{stopc: make(chan struct{}), done: make(chan int64, 1)}
	// The sampling goroutine ends when stop is called.
	go func() {
		var peak int64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, err := rss(pid); err == nil && n > peak {
				peak = n
			}
			select {
			case <-s.stopc:
				s.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak in bytes.
func (s *sampler) stop() int64 {
	close(s.stopc)
	return <-s.done
}

// loadSamples keeps the 1-minute load average at moments of the run.
type loadSamples []float64

func (ls *loadSamples) add() {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return
	}
	if v, err := strconv.ParseFloat(f[0], 64); err == nil {
		*ls = append(*ls, v)
	}
}
