// Command tutor-bench measures how fast the tutor reports a verdict after a
// save, against a learner running the same checks by hand with `go test`.
//
// For each lesson, in one run on the same machine, it alternates save by
// save between two workspaces holding the same content:
//
//   - tutor: `tutor watch --json --no-warm` watches a workspace; the time
//     runs from the write of the lesson's file to the "result" event, split
//     into the phases the events carry (noticed, debounce, build, run,
//     reported);
//   - by hand: a copy of the workspace where the hidden checks are ordinary
//     test files in the lesson's package and the harness is an ordinary
//     package; the time runs from the write to the exit of `go test ./NN-slug`
//     with default flags (plus -race where the lesson requires it).
//
// It also measures the tutor's cold start on an empty Go build cache, its
// resident memory when idle and during a check, and how long a rendered
// lesson page takes to serve.
//
// Usage, from the repository root:
//
//	go run ./cmd/tutor-bench [--saves N] [--lessons 01,02] [--cold=false] [--out FILE]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gotutor/tutor/lessons"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tutor-bench: "+err.Error())
		os.Exit(1)
	}
}

// config is what the flags ask for.
type config struct {
	saves   int
	lessons []*lessons.Lesson
	cold    bool
	out     string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tutor-bench", flag.ContinueOnError)
	saves := fs.Int("saves", 10, "measured saves per method per lesson")
	only := fs.String("lessons", "", "comma-separated lesson IDs or numbers (default: all)")
	cold := fs.Bool("cold", true, "measure the cold start on an empty Go build cache (a minute or more)")
	out := fs.String("out", "", "also write the report as markdown to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *saves < 1 {
		return errors.New("--saves must be at least 1")
	}
	course, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		return fmt.Errorf("load the course: %w", err)
	}
	cfg := config{saves: *saves, cold: *cold, out: *out, lessons: course.Lessons}
	if *only != "" {
		cfg.lessons = nil
		for id := range strings.SplitSeq(*only, ",") {
			l, err := course.Lesson(strings.TrimSpace(id))
			if err != nil {
				return err
			}
			cfg.lessons = append(cfg.lessons, l)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tutor-bench-")
	if err != nil {
		return fmt.Errorf("create a temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	rep := &report{saves: cfg.saves, started: time.Now()}
	rep.machine = describeMachine(ctx)
	rep.load.add()
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}

	bin := filepath.Join(tmp, "tutor")
	logf("building the tutor")
	if err := command(ctx, root, nil, "go", "build", "-o", bin, "./cmd/tutor"); err != nil {
		return fmt.Errorf("build the tutor: %w", err)
	}

	if err := latency(ctx, cfg, course, bin, tmp, rep, logf); err != nil {
		return err
	}
	if err := serving(ctx, cfg, bin, tmp, rep, logf); err != nil {
		return err
	}
	rep.load.add()
	rep.finished = time.Now()

	var md bytes.Buffer
	rep.write(&md)
	stdout.Write(md.Bytes())
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, md.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	return nil
}

// moduleRoot finds the tutor's module root from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/gotutor/tutor\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run tutor-bench inside the tutor's repository (no go.mod of github.com/gotutor/tutor found above the working directory)")
		}
		dir = parent
	}
}

// command runs a command to completion, returning its output in the error.
func command(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// machine describes where the figures were measured.
type machine struct {
	cpus  int
	model string
	goVer string
}

func describeMachine(ctx context.Context) machine {
	m := machine{cpus: runtime.NumCPU(), model: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.model = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.goVer = strings.TrimSpace(string(out))
	}
	return m
}
