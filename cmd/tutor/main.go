// Command tutor is an interactive course on how server code behaves under
// concurrency: sync vs async handling, CPU-bound work and pool limits.
//
// Run it with no arguments to open the course in the browser; see
// `tutor help` for the terminal commands.
package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/gotutor/tutor/internal/app"
)

func main() {
	if os.Getenv(burnEnv) == "1" {
		burn()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// burnEnv marks a process started by `tutor verify --load` to keep a CPU busy.
const burnEnv = "TUTOR_BURN"

// burn keeps one CPU busy until its parent (the tutor that started it) is
// gone or kills it.
func burn() {
	ctx, cancel := context.WithCancel(context.Background())
	parent := os.Getppid()
	// The watchdog ends the burn once the parent is gone (we are re-parented).
	go func() {
		for os.Getppid() == parent {
			time.Sleep(200 * time.Millisecond)
		}
		cancel()
	}()
	app.Burn(ctx)
}

// burnerCmd is a load process of `tutor verify --load`: the tutor binary at
// path, told to burn, in a session of its own where the platform has them
// (see burnerAttr).
func burnerCmd(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), burnEnv+"=1")
	cmd.SysProcAttr = burnerAttr()
	return cmd
}
