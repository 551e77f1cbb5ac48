package app

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/queue"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/watch"
	"github.com/gotutor/tutor/workspace"
)

// resultHold is the soonest after a save was seen that its result is shown:
// two debounce windows. The watcher reports a save 10 ms after its first
// event, so a fast result (a compile error takes under 100 ms) could
// otherwise be out before the rest of an editor's save arrives.
const resultHold = 2 * watch.DefaultDebounce

// Kind says what an [Update] is.
type Kind string

// The kinds of update.
const (
	KindChecking Kind = "checking" // a check of the lesson started
	KindProgress Kind = "progress" // a check of the run ended
	KindResult   Kind = "result"   // the run's result
	KindState    Kind = "state"    // hints, reset, progress from another process, a run that ended unpublished
	KindNotice   Kind = "notice"   // the course-wide notice changed ("" means ready)
)

// Update is one change of the live state, for the page and the terminal.
type Update struct {
	Kind   Kind
	Lesson string
	State  site.LessonState
	Notice string
	Seen   time.Time // when the save that led to this was noticed (zero for "check now")
}

// Live runs the tutor's loop: it watches the workspace, checks each saved
// lesson, records progress and publishes updates. It implements
// [site.Backend].
//
// A save becomes a snapshot: the lesson's files are read once, and the
// check runs on exactly those bytes (the checker's Replace). The snapshot
// is a task for the queue (package queue), which runs one task at a time,
// saves before the warm-up it chose by itself, cancels a run when a newer
// save of its lesson arrives, and publishes an outcome only if no newer
// snapshot of its lesson exists. So no verdict is ever shown for code that
// is gone, with one mechanism.
type Live struct {
	app    *App
	editor string
	q      *queue.Queue
	hub    *hub

	mu       sync.Mutex
	results  map[string]*checker.Result
	checking string            // lesson whose check is running, "" if none
	progress *checker.Progress // how far that check has got
	notice   string
	warming  string
	lab      *labRun // the lab run in progress, nil if none (labs.go)
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
	lv := &Live{
		app: a, editor: editor, hub: newHub(),
		results: map[string]*checker.Result{},
		told:    map[string]shownProgress{},
	}
	lv.q = queue.New(lv.ended)
	return lv
}

// LiveOptions configure [Live.Run].
type LiveOptions struct {
	Poll     bool          // poll instead of using file events
	Debounce time.Duration // 0 → the watcher's default
	NoWarm   bool          // skip compiling the checks in the background
	// ColdAfter is how long a warm-up build may take before the tutor says
	// the Go build cache is cold (0 → 3 s). On a warm cache a lesson's
	// checks build in well under a second, so the notice never shows.
	ColdAfter time.Duration
}

// coldNotice is shown while a warm-up build runs longer than ColdAfter.
const coldNotice = "Preparing the checks: the first start compiles the Go standard library once (a minute or two on a small machine); saves are still checked first."

// Run watches the workspace and runs checks until ctx is done. It returns
// after every goroutine it started has ended. It checks nothing by itself:
// untouched lessons stay not started.
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
	// The queue's worker ends when ctx is done.
	wg.Go(func() { lv.q.Run(ctx) })
	// The watcher exists: say so, so a consumer waiting for "ready" never
	// saves too early.
	lv.setWarming("")
	if !o.NoWarm {
		coldAfter := cmp.Or(o.ColdAfter, 3*time.Second)
		for i, l := range lv.app.Course.Lessons {
			if i > 0 {
				// Only the first build can find the cache cold: later ones
				// that run long are slowed by a busy machine, and the
				// notice would say the wrong thing.
				coldAfter = 0
			}
			lv.q.Submit(queue.Task{Key: "warm " + l.ID, Priority: queue.Background, Run: func(ctx context.Context) func() {
				lv.warmOne(ctx, l, coldAfter)
				return nil
			}})
		}
	}

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
				lv.trigger(l, ch.Seen)
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
	u := Update{Kind: KindNotice, Notice: lv.currentNotice()}
	lv.mu.Unlock()
	lv.hub.publish(u)
}

func (lv *Live) setWarming(n string) {
	lv.mu.Lock()
	lv.warming = n
	u := Update{Kind: KindNotice, Notice: lv.currentNotice()}
	lv.mu.Unlock()
	lv.hub.publish(u)
}

// trigger takes a snapshot of a lesson's files and queues its check; seen
// is when the save was noticed (zero for "Check now").
func (lv *Live) trigger(l *lessons.Lesson, seen time.Time) {
	files, err := lv.app.WS.Files(l)
	if err != nil {
		files = nil // unreadable: the checker reads the disk and says why
	}
	snap := snapshot{files: files, hash: workspace.FingerprintOf(l, files), seen: seen}
	lv.q.Submit(queue.Task{Key: l.ID, Priority: queue.Save, Run: func(ctx context.Context) func() {
		return lv.check(ctx, l, snap)
	}})
}

// snapshot is a lesson's files as one save left them.
type snapshot struct {
	files map[string][]byte // base name → content; nil: read the disk
	hash  string            // workspace.FingerprintOf(files)
	seen  time.Time
}

// check runs a lesson's checks on a snapshot. It returns the publish step,
// which the queue runs only if no newer snapshot of the lesson exists.
func (lv *Live) check(ctx context.Context, l *lessons.Lesson, snap snapshot) func() {
	lv.mu.Lock()
	lv.checking, lv.progress = l.ID, nil
	lv.mu.Unlock()
	lv.publishLesson(KindChecking, l.ID, snap.seen)
	lv.stopLab() // saves first: a lab must not disturb the measurement
	job := lv.app.Job(lv.app.WS.Root, l, snap.files)
	job.OnProgress = func(p checker.Progress) {
		if len(p.Done) == 0 {
			return // nothing to show yet beyond "checking"
		}
		lv.mu.Lock()
		if ctx.Err() != nil {
			// Superseded by a newer save: what this run found is about
			// files that are gone.
			lv.mu.Unlock()
			return
		}
		lv.progress = &p
		lv.mu.Unlock()
		lv.publishLesson(KindProgress, l.ID, snap.seen)
	}
	res, err := lv.app.Runner.Run(ctx, job)
	if err != nil {
		return nil // cancelled: a newer save is queued, or the tutor is stopping
	}
	if hold := time.Until(snap.seen.Add(resultHold)); !snap.seen.IsZero() && hold > 0 {
		select {
		case <-time.After(hold):
		case <-ctx.Done():
			return nil
		}
	}
	return func() {
		if res.Verdict != checker.Error {
			if _, err := lv.app.Progress.Update(func(p *workspace.Progress) {
				p.Lesson(l.ID).Record(string(res.Verdict), snap.hash, time.Now())
			}); err != nil {
				res.Notes = append(res.Notes, "Your progress could not be saved: "+err.Error())
			}
		}
		lv.mu.Lock()
		lv.results[l.ID] = res
		lv.checking, lv.progress = "", nil
		lv.mu.Unlock()
		lv.publishLesson(KindResult, l.ID, snap.seen)
	}
}

// ended is called by the queue after each task. A lesson whose run ended
// without a result (cancelled) and has no newer save waiting leaves the
// "checking" state.
func (lv *Live) ended(key string) {
	lv.mu.Lock()
	was := lv.checking == key
	if was {
		lv.checking, lv.progress = "", nil
	}
	lv.mu.Unlock()
	if was && !lv.q.Waiting(key) {
		lv.publishLesson(KindState, key, time.Time{})
	}
}

// warmOne compiles one lesson's checks so its first real check does not
// wait for the build cache. If the build takes longer than coldAfter, the
// cache was cold: a notice says so until the build ends. coldAfter 0 means
// no notice.
func (lv *Live) warmOne(ctx context.Context, l *lessons.Lesson, coldAfter time.Duration) error {
	job := lv.app.Job(lv.app.WS.Root, l, nil)
	job.BuildOnly = true
	if coldAfter <= 0 {
		_, err := lv.app.Runner.Run(ctx, job)
		return err
	}
	var mu sync.Mutex
	done, shown := false, false
	cold := time.AfterFunc(coldAfter, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			shown = true
			lv.setWarming(coldNotice)
		}
	})
	defer func() {
		cold.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		if shown {
			lv.setWarming("")
		}
	}()
	_, err := lv.app.Runner.Run(ctx, job)
	return err
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
			lv.publishLesson(KindState, l.ID, time.Time{})
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

func (lv *Live) publishLesson(kind Kind, id string, seen time.Time) {
	lv.hub.publish(Update{Kind: kind, Lesson: id, State: lv.state(id), Seen: seen})
}

// Updates returns live updates until ctx is done, then closes the channel.
func (lv *Live) Updates(ctx context.Context) <-chan Update {
	return lv.hub.subscribe(ctx)
}

func progressOf(checking bool, p *checker.Progress) *checker.Progress {
	if !checking {
		return nil
	}
	return p
}
