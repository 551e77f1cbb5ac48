package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// labCmd runs a built-in experiment: a demo for instructors, not an exercise.
func labCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	pool := fs.Int("pool", 40, "pool slots for sync handlers (anyio's default is 40)")
	unit := fs.Duration("unit", lab.DefaultUnit, "how long each handler waits")
	conc := fs.String("n", "20,40,80,120", "async-vs-sync: comma-separated burst sizes")
	jobs := fs.Int("jobs", 0, "cores: CPU jobs sent at once (default 10 × GOMAXPROCS)")
	deadline := fs.Duration("deadline", 0, "cores: a job answered later than this is late (default 4 units)")
	fs.String("workers", "1,2,4", "workers: comma-separated worker counts")
	fs.Int("requests", 0, "workers: requests in the sleeping bursts (default 120); queue: arrivals per load (default 200)")
	fs.Int("blocking", 8, "workers: requests to the async handler that blocks its loop")
	fs.Duration("service", 20*time.Millisecond, "queue: mean service time d")
	fs.String("loads", "50,70,80,90,95", "queue: utilisations in percent of k/d (--pool is k, default 4)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) == 1 && (args[0] == "workers" || args[0] == "queue") {
			return knobLab(ctx, e, fs, args[0])
		}
		if len(args) == 1 && args[0] == "cores" {
			o := lab.CoresOptions{Jobs: *jobs, Deadline: *deadline}
			fs.Visit(func(f *flag.Flag) {
				if f.Name == "unit" {
					o.Unit = *unit // else the cores lab's own default, 20 ms of CPU
				}
			})
			fmt.Fprintf(e.stdout, "Measuring a burst of CPU jobs three ways on %d CPUs (GOMAXPROCS %d), 3 bursts each…\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
			rows, err := lab.Cores(ctx, o)
			if err != nil {
				return usageErr("lab cores: %v", err)
			}
			fmt.Fprint(e.stdout, lab.CoresTable(rows))
			fmt.Fprintln(e.stdout, "\nUnbounded, every job shares the cores with every other, so they all finish late together;\na pool the size of GOMAXPROCS finishes the first jobs early; a pool of 1 leaves cores idle.")
			return nil
		}
		if len(args) != 1 || args[0] != "async-vs-sync" {
			return usageErr("lab needs the name of an experiment: async-vs-sync, cores, workers or queue")
		}
		var ns []int
		for _, f := range strings.Split(*conc, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 1000 {
				return usageErr("lab: --n must list burst sizes between 1 and 1000, got %q", f)
			}
			ns = append(ns, n)
		}
		fmt.Fprintf(e.stdout, "Measuring %v concurrent requests against an async handler (c.Sleep(%v)) and a sync one (time.Sleep(%v), pool of %d), 3 bursts each, on %d CPUs…\n\n",
			ns, *unit, *unit, *pool, runtime.NumCPU())
		start := time.Now()
		rows, err := lab.AsyncVsSync(ctx, lab.Options{Pool: *pool, Unit: *unit, Concurrency: ns})
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, lab.Table(rows, *unit))
		fmt.Fprintf(e.stdout, "\n(measured in %.1f s)\n", time.Since(start).Seconds())
		return nil
	}
}

// knobLab runs a lab through its knobs (the flags set on the command line
// that are knobs of this lab) and prints its aligned table.
func knobLab(ctx context.Context, e *env, fs *flag.FlagSet, name string) error {
	spec, _ := lab.Find(name)
	knobs := map[string]string{}
	var foreign []string
	fs.Visit(func(f *flag.Flag) {
		for _, k := range spec.Knobs {
			if k.Name == f.Name {
				knobs[f.Name] = f.Value.String()
				return
			}
		}
		if f.Name != "workspace" {
			foreign = append(foreign, "--"+f.Name)
		}
	})
	if len(foreign) > 0 {
		return usageErr("lab %s: %s is not a knob of this lab", name, strings.Join(foreign, ", "))
	}
	err := lab.Run(ctx, name, knobs, func(ev lab.Event) {
		switch ev.Kind {
		case lab.EventStart:
			st := ev.Data.(lab.Start)
			load := ""
			if st.Load != "" {
				load = ", load average " + st.Load
			}
			fmt.Fprintf(e.stdout, "%s, on %d CPUs (GOMAXPROCS %d%s)…\n", spec.Title, st.CPUs, st.GOMAXPROCS, load)
			if spec.Simulated != "" {
				fmt.Fprintf(e.stdout, "%s\n", spec.Simulated)
			}
			fmt.Fprintln(e.stdout)
		case lab.EventDone:
			fmt.Fprint(e.stdout, ev.Data.(string))
			fmt.Fprintf(e.stdout, "\n%s\n", spec.Look)
		}
	})
	if lab.IsKnobError(err) {
		return usageErr("lab %s: %v", name, err)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w", name, err)
	}
	return nil
}
