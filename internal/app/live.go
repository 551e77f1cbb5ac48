package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/watch"
	"github.com/gotutor/tutor/workspace"
)

// resultHold is the soonest after a save was seen that its result is shown:
// two debounce windows, as long as a result took before the watcher's early
// look, so saves less than that apart give one result.
const resultHold = 2 * watch.DefaultDebounce

// Update is one change of the live state, for the page and the terminal.
type Update struct {
	Kind   string // "checking", "progress" (a check of the run ended), "result", "state" (hints, reset…) or "notice"
	Lesson string
	State  site.LessonState
	Notice string
	Seen   time.Time // when the save that led to this was noticed (zero for "check now")
}

// Live runs the tutor's loop: it watches the workspace, checks each saved
// lesson, records progress and publishes updates. It implements
// [site.Backend].
//
// One worker runs checks one at a time, because two timing checks running
// side by side on a small machine would disturb each other. A save of the
// lesson being checked cancels that run and starts again; a result is
// published only if the files on disk are still the ones that were checked,
// so no verdict is ever shown for code that is gone. The watcher reports a
// save that looks finished 10 ms after its first event, before its debounce
// ends, so a check usually starts at once; if the save was not finished
// after all, the rest of it arrives as another change and cancels that run.
type Live struct {
	app    *App
	editor string

	mu       sync.Mutex
	results  map[string]*checker.Result
	checking string             // lesson being checked, "" if none
	progress *checker.Progress  // how far that check has got
	cancel   context.CancelFunc // cancels the run in flight
	pending  []string           // lessons waiting for a check, in order
	seen     map[string]time.Time
	notice   string
	warming  string
	subs     map[chan Update]struct{}
	wake     chan struct{}
	// told is the progress each lesson's last update carried, so a change
	// made by another process (`tutor hint` or `tutor check` in a terminal
	// beside the page) is noticed and published.
	told map[string]shownProgress
}

// shownProgress is the part of a lesson's progress the page shows.
type shownProgress struct {
	status     workspace.Status
	hintsShown int
	attempts   int
	assisted   bool
}

func shownOf(lp *workspace.LessonProgress) shownProgress {
	return shownProgress{lp.Status, lp.HintsShown, lp.Attempts, lp.Assisted}
}

// NewLive returns the live loop for a; editor is the command that "open in
// editor" runs ("" when the page links to vscode:// instead).
func NewLive(a *App, editor string) *Live {
	return &Live{
		app: a, editor: editor,
		results: map[string]*checker.Result{},
		seen:    map[string]time.Time{},
		subs:    map[chan Update]struct{}{},
		wake:    make(chan struct{}, 1),
		told:    map[string]shownProgress{},
	}
}

// LiveOptions configure [Live.Run].
type LiveOptions struct {
	Poll     bool          // poll instead of using file events
	Debounce time.Duration // 0 → the watcher's default
	NoWarm   bool          // skip compiling the checks at start
	// CheckFirst, if set, is checked once the cache is warm, so the page
	// opens on a real verdict.
	CheckFirst string
}

// Run watches the workspace and runs checks until ctx is done. It returns
// after every goroutine it started has ended.
func (lv *Live) Run(ctx context.Context, o LiveOptions) error {
	var dirs []string
	for _, l := range lv.app.Course.Lessons {
		dirs = append(dirs, lv.app.WS.LessonDir(l))
	}
	w, err := watch.New(dirs, watch.Options{Poll: o.Poll, Debounce: o.Debounce})
	if err != nil {
		return fmt.Errorf("watch the workspace: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// The watcher goroutine ends when ctx is done.
	wg.Go(func() {
		if err := w.Run(ctx); err != nil && ctx.Err() == nil {
			lv.setNotice("watching stopped: " + err.Error() + "; use “Check now”")
		}
	})
	// The worker goroutine ends when ctx is done.
	wg.Go(func() { lv.work(ctx, o) })

	modeShown := ""
	var progressStamp time.Time // of the progress file, looked at every second
	byDir := map[string]*lessons.Lesson{}
	for _, l := range lv.app.Course.Lessons {
		byDir[lv.app.WS.LessonDir(l)] = l
	}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case ch, ok := <-w.Changes():
			if !ok {
				<-ctx.Done()
				wg.Wait()
				return nil
			}
			if m := w.Mode(); m != modeShown {
				modeShown = m
				lv.modeNotice(m)
			}
			if l := byDir[ch.Dir]; l != nil {
				lv.trigger(l.ID, ch.Seen)
			}
		case <-time.After(time.Second):
			if m := w.Mode(); m != modeShown {
				modeShown = m
				lv.modeNotice(m)
			}
			progressStamp = lv.progressFromDisk(progressStamp)
		}
	}
}

func (lv *Live) modeNotice(mode string) {
	if strings.HasPrefix(mode, "polling") {
		lv.setNotice("Saves are noticed by " + mode + ".")
	}
}

// Mode notices are course-wide; so is warming. Notice returns the current one.
func (lv *Live) currentNotice() string {
	if lv.warming != "" {
		if lv.notice != "" {
			return lv.warming + " " + lv.notice
		}
		return lv.warming
	}
	return lv.notice
}

func (lv *Live) setNotice(n string) {
	lv.mu.Lock()
	lv.notice = n
	u := Update{Kind: "notice", Notice: lv.currentNotice()}
	lv.mu.Unlock()
	lv.publish(u)
}

func (lv *Live) setWarming(n string) {
	lv.mu.Lock()
	lv.warming = n
	u := Update{Kind: "notice", Notice: lv.currentNotice()}
	lv.mu.Unlock()
	lv.publish(u)
}

// trigger queues a check of a lesson; if that lesson is being checked, the
// run is cancelled and will start again with the new files.
func (lv *Live) trigger(id string, seen time.Time) {
	lv.mu.Lock()
	if !slices.Contains(lv.pending, id) {
		lv.pending = append(lv.pending, id)
	}
	if !seen.IsZero() {
		lv.seen[id] = seen
	}
	if lv.checking == id && lv.cancel != nil {
		lv.cancel()
		lv.progress = nil
	}
	lv.mu.Unlock()
	select {
	case lv.wake <- struct{}{}:
	default:
	}
}

// work is the single check worker. It ends when ctx is done.
func (lv *Live) work(ctx context.Context, o LiveOptions) {
	if o.NoWarm {
		// The watcher exists (Run made it before starting work): say so,
		// so a consumer waiting for "ready" never saves too early.
		lv.setWarming("")
	} else {
		n := len(lv.app.Course.Lessons)
		err := lv.app.Warm(ctx, lv.app.WS.Root, func(done, total int, id string) {
			if done < total {
				lv.setWarming(fmt.Sprintf("Preparing the checks (%d of %d; the first start compiles the Go standard library once)…", done+1, n))
			}
		})
		lv.setWarming("")
		if err != nil {
			return // ctx ended
		}
	}
	if o.CheckFirst != "" {
		lv.trigger(o.CheckFirst, time.Time{})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-lv.wake:
		}
		for {
			lv.mu.Lock()
			if len(lv.pending) == 0 || ctx.Err() != nil {
				lv.mu.Unlock()
				break
			}
			id := lv.pending[0]
			lv.pending = lv.pending[1:]
			seen := lv.seen[id]
			delete(lv.seen, id)
			runCtx, cancel := context.WithCancel(ctx)
			lv.checking, lv.cancel, lv.progress = id, cancel, nil
			lv.mu.Unlock()

			lv.publishLesson("checking", id, seen)
			lv.runOne(runCtx, id, seen)
			cancel()

			lv.mu.Lock()
			lv.checking, lv.cancel, lv.progress = "", nil, nil
			again := slices.Contains(lv.pending, id)
			lv.mu.Unlock()
			if !again {
				lv.publishLesson("state", id, time.Time{})
			}
		}
	}
}

// runOne checks a lesson and publishes the result, unless the run was
// superseded or the files changed while it ran.
func (lv *Live) runOne(ctx context.Context, id string, seen time.Time) {
	l, err := lv.app.Course.Lesson(id)
	if err != nil {
		return
	}
	before := lv.app.WS.Fingerprint(l)
	job := lv.app.Job(lv.app.WS.Root, l, nil)
	job.OnProgress = func(p checker.Progress) {
		if len(p.Done) == 0 {
			return // nothing to show yet beyond "checking"
		}
		lv.mu.Lock()
		if ctx.Err() != nil {
			// Superseded by a newer save (trigger cancels under this lock):
			// what this run found is about files that are gone.
			lv.mu.Unlock()
			return
		}
		lv.progress = &p
		lv.mu.Unlock()
		lv.publishLesson("progress", id, seen)
	}
	res, err := lv.app.Runner.Run(ctx, job)
	if err != nil {
		return // cancelled: a newer save is queued, or the tutor is stopping
	}
	// The watcher reports a save 10 ms after its first event, so a fast
	// result (a compile error takes under 100 ms) could be out before the
	// learner's next save of the same burst. Hold it until resultHold after
	// the save was seen; a newer save meanwhile cancels ctx and wins.
	if hold := time.Until(seen.Add(resultHold)); !seen.IsZero() && hold > 0 {
		select {
		case <-time.After(hold):
		case <-ctx.Done():
			return
		}
	}
	if lv.app.WS.Fingerprint(l) != before {
		lv.trigger(id, seen) // checked files are gone from disk: check the new ones
		return
	}
	if res.Verdict != checker.Error {
		if _, err := lv.app.Progress.Update(func(p *workspace.Progress) {
			p.Lesson(l.ID).Record(string(res.Verdict), before, time.Now())
		}); err != nil {
			res.Notes = append(res.Notes, "Your progress could not be saved: "+err.Error())
		}
	}
	lv.mu.Lock()
	lv.results[id] = res
	lv.mu.Unlock()
	lv.publishLesson("result", id, seen)
}

// progressFromDisk publishes the lessons whose progress another process
// changed since their last update (a hint revealed with `tutor hint`, a
// `tutor check` run in a terminal). It reads the file only if its
// modification time is not stamp, and returns the time it saw.
func (lv *Live) progressFromDisk(stamp time.Time) time.Time {
	fi, err := os.Stat(lv.app.Progress.Path())
	if err != nil || fi.ModTime().Equal(stamp) {
		return stamp
	}
	p, err := lv.app.Progress.Load()
	if err != nil {
		return fi.ModTime() // damaged: the next update reports it
	}
	for _, l := range lv.app.Course.Lessons {
		now := shownOf(p.Lesson(l.ID))
		lv.mu.Lock()
		told, ok := lv.told[l.ID]
		lv.mu.Unlock()
		if ok && told != now {
			lv.publishLesson("state", l.ID, time.Time{})
		}
	}
	return fi.ModTime()
}

// state builds a lesson's full state.
func (lv *Live) state(id string) site.LessonState {
	p, err := lv.app.Progress.Load()
	if err != nil {
		p = &workspace.Progress{Lessons: map[string]*workspace.LessonProgress{}}
	}
	lp := p.Lesson(id)
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.told[id] = shownOf(lp)
	return site.LessonState{
		Status:     string(lp.Status),
		Checking:   lv.checking == id,
		Progress:   progressOf(lv.checking == id, lv.progress),
		Result:     lv.results[id],
		HintsShown: lp.HintsShown,
		Attempts:   lp.Attempts,
		Assisted:   lp.Assisted,
	}
}

func (lv *Live) publishLesson(kind, id string, seen time.Time) {
	lv.publish(Update{Kind: kind, Lesson: id, State: lv.state(id), Seen: seen})
}

// publish sends u to every subscriber that has room; a full subscriber
// misses it, but the next update of the same lesson carries its full state.
func (lv *Live) publish(u Update) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	for ch := range lv.subs {
		select {
		case ch <- u:
		default:
		}
	}
}

// Updates returns live updates until ctx is done, then closes the channel.
func (lv *Live) Updates(ctx context.Context) <-chan Update {
	ch := make(chan Update, 64)
	lv.mu.Lock()
	lv.subs[ch] = struct{}{}
	lv.mu.Unlock()
	// This goroutine ends when ctx is done, after unsubscribing.
	go func() {
		<-ctx.Done()
		lv.mu.Lock()
		delete(lv.subs, ch)
		close(ch)
		lv.mu.Unlock()
	}()
	return ch
}

// Snapshot implements [site.Backend].
func (lv *Live) Snapshot() site.Snapshot {
	s := site.Snapshot{Workspace: lv.app.WS.Root, Lessons: map[string]site.LessonState{}}
	for _, l := range lv.app.Course.Lessons {
		s.Lessons[l.ID] = lv.state(l.ID)
	}
	lv.mu.Lock()
	s.Notice = lv.currentNotice()
	lv.mu.Unlock()
	return s
}

// Subscribe implements [site.Backend].
func (lv *Live) Subscribe(ctx context.Context) <-chan site.Event {
	in := lv.Updates(ctx)
	out := make(chan site.Event, 64)
	// This goroutine ends when in is closed (ctx done).
	go func() {
		defer close(out)
		for u := range in {
			select {
			case out <- site.Event{Lesson: u.Lesson, State: u.State, Notice: u.Notice}:
			default:
			}
		}
	}()
	return out
}

func (lv *Live) lesson(id string) (*lessons.Lesson, error) {
	return lv.app.Course.Lesson(id)
}

// CheckNow implements [site.Backend].
func (lv *Live) CheckNow(id string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	lv.trigger(l.ID, time.Time{})
	return nil
}

// RevealHint implements [site.Backend].
func (lv *Live) RevealHint(id string) (int, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return 0, err
	}
	shown, err := lv.app.RevealHint(l, false)
	if err != nil {
		return 0, err
	}
	lv.publishLesson("state", l.ID, time.Time{})
	return shown, nil
}

// Reset implements [site.Backend]. The watcher sees the restored files and
// checks them.
func (lv *Live) Reset(id string) (string, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return "", err
	}
	return lv.app.WS.Reset(l)
}

// Undo implements [site.Backend].
func (lv *Live) Undo(id string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	_, err = lv.app.WS.Undo(l)
	return err
}

// Solution implements [site.Backend].
func (lv *Live) Solution(id string, force bool) (map[string][]byte, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return nil, err
	}
	files, err := lv.app.Solution(l, force)
	if errors.Is(err, workspace.ErrNotSaved) {
		err = nil // shown, though "assisted" could not be recorded (a read-only workspace)
	}
	if err == nil && force {
		lv.publishLesson("state", l.ID, time.Time{}) // may now be assisted
	}
	return files, err
}

// OpenInEditor implements [site.Backend]: it starts the editor command with
// the file's path and does not wait for it.
func (lv *Live) OpenInEditor(id, file string) error {
	l, err := lv.lesson(id)
	if err != nil {
		return err
	}
	if !slices.Contains(l.Files, file) {
		return fmt.Errorf("%s is not a file of %s (files: %s)", file, l.ID, strings.Join(l.Files, ", "))
	}
	args := strings.Fields(lv.editor)
	if len(args) == 0 {
		return errors.New("no editor configured; start the tutor with --editor CMD")
	}
	cmd := exec.Command(args[0], append(args[1:], filepath.Join(lv.app.WS.LessonDir(l), file))...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	// This goroutine ends when the editor exits; it only reaps the process.
	go cmd.Wait()
	return nil
}

func progressOf(checking bool, p *checker.Progress) *checker.Progress {
	if !checking {
		return nil
	}
	return p
}
