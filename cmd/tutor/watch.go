package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
	"golang.org/x/term"
)

// watchEvent is one line of `tutor watch --json`. A result line carries
// every field of `tutor check --json` besides these.
type watchEvent struct {
	Event  string     `json:"event"` // "ready", "notice", "checking", "progress" or "result"
	Lesson string     `json:"lesson,omitempty"`
	Seen   *time.Time `json:"seen,omitempty"` // when the save was noticed
	Time   time.Time  `json:"time"`
	Notice string     `json:"notice,omitempty"`
	// Progress, in a "progress" event: the checks of the running check
	// that have ended so far, and the one running now.
	Progress *checker.Progress `json:"progress,omitempty"`
	*checker.Result
}

func watchCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of the terminal display")
	poll := fs.Bool("poll", false, "notice saves by polling instead of file events")
	noWarm := fs.Bool("no-warm", false, "do not compile the checks at start")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("watch takes no arguments, got %q", args[0])
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		if !a.WS.Exists() {
			if err := initWorkspace(a, e.stderr); err != nil {
				return err
			}
		}
		p, err := a.Progress.Load()
		if err != nil {
			return err
		}
		current := a.Next(p)
		live := app.NewLive(a, "")
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		updates := live.Updates(ctx)
		var wg sync.WaitGroup
		opts := app.LiveOptions{Poll: *poll, NoWarm: *noWarm}
		// The live loop ends when ctx is done.
		wg.Go(func() {
			if err := live.Run(ctx, opts); err != nil {
				fmt.Fprintln(e.stderr, "tutor: "+err.Error())
				cancel()
			}
		})
		defer wg.Wait()
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			for u := range updates {
				ev := watchEvent{Event: string(u.Kind), Lesson: u.Lesson, Time: time.Now(), Notice: u.Notice}
				if !u.Seen.IsZero() {
					seen := u.Seen
					ev.Seen = &seen
				}
				switch u.Kind {
				case app.KindNotice:
					if u.Notice == "" {
						ev.Event = "ready"
					}
				case app.KindResult:
					ev.Result = u.State.Result
				case app.KindProgress:
					ev.Progress = u.State.Progress
				case app.KindChecking:
				default:
					continue
				}
				if err := enc.Encode(ev); err != nil {
					return nil // stdout closed: the consumer is gone
				}
			}
			return nil
		}
		return watchTerminal(ctx, cancel, e, a, live, updates, current)
	}
}

// watchKeys is what `tutor help watch` adds to the flags.
const watchKeys = `
Keys, while it watches (in a terminal):
  h  the next hint of the current lesson (none is spent on a passed lesson)
  n  go on to the next lesson
  c  check every lesson now
  q  quit (Ctrl-C too)
`

// watchTerminal is the human display: a line per check, the failing
// check's message, a progress bar, and one-key commands.
func watchTerminal(ctx context.Context, cancel context.CancelFunc, e *env, a *app.App, live *app.Live, updates <-chan app.Update, current *lessons.Lesson) error {
	w, restore := rawTerminal(e.stdout)
	defer restore()
	keys := make(chan byte)
	// The key reader ends when stdin ends; it is not waited for, because a
	// blocked read of a terminal cannot be interrupted portably.
	go func() {
		r := bufio.NewReader(e.stdin)
		for {
			b, err := r.ReadByte()
			if err != nil {
				close(keys)
				return
			}
			select {
			case keys <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	help := "keys: h hint · n next lesson · c check all · q quit"
	fmt.Fprintf(w, "Watching %s. Edit %s and save.\n%s\n", a.WS.Root, workspace.Rel(current, current.Files[0]), help)
	shown := 0 // checks of the running check already printed
	for {
		select {
		case <-ctx.Done():
			return nil
		case k, ok := <-keys:
			if !ok {
				keys = nil // stdin closed (not a terminal): keep watching
				continue
			}
			switch k {
			case 'q', 3: // q or Ctrl-C in raw mode
				cancel()
				return nil
			case 'h':
				if p, err := a.Progress.Load(); err == nil && app.Status(p, current) == workspace.Passed {
					// A hint is spent only on a lesson still to pass.
					fmt.Fprintf(w, "\n%s is passed: no hint needed. %s\n", current.ID, nextKey(a, current))
					continue
				}
				showHint(w, a, current)
			case 'n':
				current = nextLesson(a, current)
				fmt.Fprintf(w, "\nNow on %s — %s. Edit %s.\n", current.ID, current.Title, workspace.Rel(current, current.Files[0]))
			case 'c':
				fmt.Fprintln(w, "\nChecking every lesson…")
				for _, l := range a.Course.Lessons {
					live.CheckNow(l.ID)
				}
			}
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			switch u.Kind {
			case app.KindNotice:
				if u.Notice != "" {
					fmt.Fprintln(w, u.Notice)
				} else {
					fmt.Fprintln(w, "Ready: every save is checked.")
				}
			case app.KindChecking:
				fmt.Fprintf(w, "%s  checking %s …\n", time.Now().Format("15:04:05"), u.Lesson)
				shown = 0
			case app.KindProgress:
				// Each check as it ends, so a slow failing run says early
				// what failed; the full result follows.
				if p := u.State.Progress; p != nil {
					for _, c := range p.Done[min(shown, len(p.Done)):] {
						mark := "✓"
						if !c.Passed {
							mark = "✗"
						}
						fmt.Fprintf(w, "          %s %s\n", mark, cmp.Or(c.Title, c.Name))
					}
					shown = len(p.Done)
				}
			case app.KindResult:
				if l, err := a.Course.Lesson(u.Lesson); err == nil {
					current = l
					printResult(w, l, u.State.Result)
					printProgress(w, a)
					if r := u.State.Result; r != nil && r.Verdict == checker.Pass {
						fmt.Fprintln(w, nextKey(a, l))
					}
					fmt.Fprintln(w, help)
				}
			}
		}
	}
}

// nextLesson is the lesson after l, or the first one after the last.
func nextLesson(a *app.App, l *lessons.Lesson) *lessons.Lesson {
	i := slices.Index(a.Course.Lessons, l)
	return a.Course.Lessons[(i+1)%len(a.Course.Lessons)]
}

// nextKey says which key goes on after l passed.
func nextKey(a *app.App, l *lessons.Lesson) string {
	n := nextLesson(a, l)
	if n == a.Course.Lessons[0] {
		return "That was the last lesson of the course."
	}
	return fmt.Sprintf("Next: press n for %s · %s.", n.Number, n.Title)
}

func showHint(w interface{ Write([]byte) (int, error) }, a *app.App, l *lessons.Lesson) {
	shown, err := a.RevealHint(l, false)
	if err != nil {
		fmt.Fprintln(w, "tutor: "+err.Error())
		return
	}
	h := l.Hints[shown-1]
	fmt.Fprintf(w, "\nHint %d of %d for %s: %s\n\n%s\n\n", shown, len(l.Hints), l.ID, h.Title, strings.TrimSpace(string(h.Body)))
}

func printProgress(w interface{ Write([]byte) (int, error) }, a *app.App) {
	p, err := a.Progress.Load()
	if err != nil {
		return
	}
	n := 0
	for _, l := range a.Course.Lessons {
		if app.Status(p, l) == workspace.Passed {
			n++
		}
	}
	fmt.Fprintf(w, "%s %d of %d lessons passed\n", bar(n, len(a.Course.Lessons), 30), n, len(a.Course.Lessons))
}

// rawTerminal switches a terminal stdin to one-key input and returns the
// writer to print through meanwhile (raw mode turns off the terminal's own
// newline handling, so it writes "\r\n" for "\n") and the function that
// restores the terminal. Without a terminal it changes nothing.
func rawTerminal(out io.Writer) (io.Writer, func()) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return out, func() {}
	}
	saved, err := term.MakeRaw(fd)
	if err != nil {
		return out, func() {}
	}
	return crlfWriter{out}, func() { term.Restore(fd, saved) }
}

// crlfWriter ends every line with "\r\n", as a terminal in raw mode needs.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
