// Package watch reports when the learner saves an exercise file, whatever
// editor they use.
//
// It watches directories, never single files: editors that save by writing a
// temporary file and renaming it over the original (vim, sed -i, JetBrains,
// atomic writers) replace the file's inode, and a watch on the old inode goes
// quiet after the first save. Every editor turns one save into a burst of
// events on several names, so events are filtered by base name, debounced per
// directory, and then the directory's files are hashed: a Change is reported
// only when the content really differs from what was last reported. Most saves
// are complete a moment after their first event, so the watcher also looks
// early (Options.Settle, 10 ms) and reports a save that looks finished then,
// instead of waiting out the debounce; if the burst goes on, its final content
// follows as another Change, and the consumer cancels what it started. Where the
// file system sends no events at all (network drives, WSL's /mnt, some
// container mounts), the watcher notices at start and polls instead.
package watch // import "github.com/gotutor/tutor/watch"

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults for the zero values in Options.
const (
	DefaultDebounce  = 100 * time.Millisecond
	DefaultSettle    = 10 * time.Millisecond
	DefaultPollEvery = 500 * time.Millisecond
	DefaultSelfTest  = time.Second
)

// readRetries is how often a directory whose files could not all be read is
// rescanned before the watcher waits for the next event. Windows can refuse
// a read right after a write event while the editor still holds the file.
const readRetries = 3

// maxMtimeWaits is how often one burst is extended because a file was
// written more recently than its last event.
const maxMtimeWaits = 5

// Options tune a Watcher. The zero value is ready to use.
type Options struct {
	// Debounce is the quiet time after the last event in a directory before
	// the directory is hashed and a Change may be reported; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Settle is how long after the first event of a burst the directory
	// is looked at early. Most saves are over within a millisecond of
	// their first event (one write, or one rename), so if every file is
	// there and none is empty, the new content is reported then, without
	// waiting for the debounce; if more events follow, the burst goes on
	// as usual and a later state is reported as a Change of its own. A
	// consumer that starts work on a Change should therefore cancel it
	// when the next Change for the same directory arrives. 0 means
	// DefaultSettle; a negative value turns the early look off.
	Settle time.Duration
	// Poll forces polling instead of file-system events.
	Poll bool
	// PollEvery is the polling interval; 0 means DefaultPollEvery.
	PollEvery time.Duration
	// SelfTest is how long New waits for the event of a probe file it
	// creates in the first directory; if none arrives, the watcher polls.
	// 0 means DefaultSelfTest.
	SelfTest time.Duration
	// Match reports which base names matter. Editors' temporary, swap and
	// backup files never matter, whatever Match says. nil means: names
	// ending in ".go" that do not start with a dot (learners may add files
	// of their own, so it is not limited to a lesson's files).
	Match func(name string) bool

	// The fields below exist for the package's tests.

	// drop makes the watcher behave as if the kernel never sent ev.
	drop func(ev fsnotify.Event) bool
	// inject delivers errors as if they came from fsnotify's Errors.
	inject <-chan error
	// logf receives every raw event and decision.
	logf func(format string, args ...any)
}

// Change is the state of one directory after a save that changed it.
type Change struct {
	// Dir is the watched directory, as given to New.
	Dir string
	// Files maps the base name of every file in Dir that matters to the
	// sha256 of its content, in hex. A deleted file is simply absent.
	Files map[string]string
	// Seen is when the first event of the burst that led to this Change
	// arrived, for measuring latency.
	Seen time.Time
}

// Watcher reports saves in a fixed set of directories. Create it with New,
// then call Run once; Run releases what New acquired.
type Watcher struct {
	opts    Options
	dirs    []*dirState
	fsw     *fsnotify.Watcher // nil when polling
	changes chan Change
	started atomic.Bool

	mu   sync.Mutex
	mode string
}

// dirState is everything known about one watched directory. After New
// returns, only Run's goroutine touches it.
type dirState struct {
	given string // as passed to New; reported in Change.Dir
	path  string // cleaned; how fsnotify names it in events

	// delivered is the content the consumer has: the initial state, then
	// the Files of the last Change it received.
	delivered map[string]string
	// pendingFiles is newer content not yet delivered (nil if none); out is
	// the Change that carries it, with a copy of the map for the consumer.
	pendingFiles map[string]string
	out          Change

	burst    bool      // events arrived and the directory has not been hashed since
	first    time.Time // when the burst's first event arrived
	peekAt   time.Time // when to look early (see Options.Settle); zero once looked
	deadline time.Time // when the burst is over unless more events arrive
	retries  int       // rescans left after a failed read
	waited   bool      // the burst was extended once for an empty or missing file
	// mtimeWaits limits how often a burst is extended because a file's
	// mtime is recent, in case a clock is off.
	mtimeWaits int

	lost   bool             // its fsnotify watch is gone (directory deleted or moved)
	stamps map[string]stamp // polling: the last look at the directory
}

// New prepares a Watcher for dirs. Each must be an existing directory. The
// content of every directory is hashed now: a Change is reported only when
// it differs from this initial state or from the last Change for the same
// directory. Unless o.Poll is set, New also starts file-system events and
// checks, within o.SelfTest, that they arrive; Mode tells the outcome. The
// file-system watch (one inotify instance and fsnotify's reading goroutine)
// lives from New until Run returns, so a Watcher must be Run.
func New(dirs []string, o Options) (*Watcher, error) {
	if len(dirs) == 0 {
		return nil, errors.New("watch: no directories")
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.SelfTest <= 0 {
		o.SelfTest = DefaultSelfTest
	}
	if o.Match == nil {
		o.Match = defaultMatch
	}
	w := &Watcher{opts: o, changes: make(chan Change)}
	seen := make(map[string]bool)
	for _, dir := range dirs {
		path := filepath.Clean(dir)
		if seen[path] {
			return nil, fmt.Errorf("watch %s: listed twice", dir)
		}
		seen[path] = true
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", dir, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("watch %s: not a directory", dir)
		}
		w.dirs = append(w.dirs, &dirState{given: dir, path: path})
	}

	if o.Poll {
		w.mode = "polling (forced by --poll)"
	} else if reason := w.startEvents(); reason != "" {
		w.mode = "polling: " + reason
	}
	// Hash after the watches exist, so that no save falls between the two.
	for _, d := range w.dirs {
		files, _, err := hashDir(d.path, o.Match)
		if files == nil {
			w.close()
			if err == nil {
				err = errors.New("directory vanished")
			}
			return nil, fmt.Errorf("watch %s: %w", d.given, err)
		}
		if err != nil {
			// An unreadable file is left out; it counts once it can be read.
			w.logf("initial hash: %v", err)
		}
		d.delivered = files
	}
	if w.fsw != nil {
		if reason := w.selfTest(); reason != "" {
			w.close()
			w.mode = "polling: " + reason
		} else {
			w.mode = "fsnotify"
		}
	}
	w.logf("mode: %s", w.mode)
	return w, nil
}

// startEvents creates the fsnotify watcher and watches every directory. It
// returns why it could not, or "".
func (w *Watcher) startEvents() string {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Sprintf("file events unavailable (%v)", err)
	}
	for _, d := range w.dirs {
		if err := fsw.Add(d.path); err != nil {
			fsw.Close()
			return fmt.Sprintf("file events unavailable for %s (%v)", d.given, err)
		}
	}
	w.fsw = fsw
	return ""
}

// selfTest creates a probe file in the first directory and waits for its
// event. It returns why events cannot be trusted, or "". Other events read
// meanwhile are dropped; Run rescans every directory when it starts.
func (w *Watcher) selfTest() string {
	f, err := os.CreateTemp(w.dirs[0].path, probePrefix+"*")
	if err != nil {
		return fmt.Sprintf("self-test could not create a probe file (%v)", err)
	}
	probe := f.Name()
	f.Close()
	defer os.Remove(probe)

	timer := time.NewTimer(w.opts.SelfTest)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return "file events stopped during the self-test"
			}
			w.logf("self-test event %s %s", ev.Op, ev.Name)
			if w.opts.drop != nil && w.opts.drop(ev) {
				continue
			}
			if filepath.Clean(ev.Name) == probe {
				return ""
			}
		case err := <-w.fsw.Errors:
			w.logf("self-test error: %v", err)
		case <-timer.C:
			return fmt.Sprintf("no file events arrived within %v (network drive or WSL /mnt?)", w.opts.SelfTest)
		}
	}
}

func (w *Watcher) close() {
	if w.fsw != nil {
		w.fsw.Close()
		w.fsw = nil
	}
}

func (w *Watcher) logf(format string, args ...any) {
	if w.opts.logf != nil {
		w.opts.logf(format, args...)
	}
}

// Mode tells how the watcher learns of saves: "fsnotify", or "polling"
// followed by why, for example "polling (forced by --poll)" or "polling: no
// file events arrived within 1s (network drive or WSL /mnt?)". It is final
// once New returns, except that Run switches to polling if file events stop.
func (w *Watcher) Mode() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode
}

func (w *Watcher) setMode(m string) {
	w.mu.Lock()
	w.mode = m
	w.mu.Unlock()
	w.logf("mode: %s", m)
}

// Changes returns the channel on which Run reports changes. Run closes it
// when it returns. A consumer that falls behind loses no state: while a
// directory's Change waits to be received, newer content for the same
// directory replaces it.
func (w *Watcher) Changes() <-chan Change {
	return w.changes
}

// Run watches until ctx is done, then releases the watcher's resources,
// closes Changes and returns nil. It must be called exactly once.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called twice")
	}
	defer close(w.changes)
	defer w.close()

	l := &loop{w: w, byPath: make(map[string]*dirState)}
	for _, d := range w.dirs {
		l.byPath[d.path] = d
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
	}
	retry := w.opts.Debounce // how often a lost directory is looked for
	if w.fsw == nil {
		retry = w.opts.PollEvery
		l.polling = true
	}
	tick := time.NewTicker(retry)
	defer tick.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	// Catch whatever changed between New and now, but through the
	// debounce: a save may be half done right now.
	now := time.Now()
	for _, d := range w.dirs {
		if l.polling {
			d.stamps = stampDir(d.path, w.opts.Match)
		}
		l.touch(d, now)
	}

	for {
		var out chan<- Change
		var next Change
		if len(l.queue) > 0 {
			out, next = w.changes, l.queue[0].out
		}
		var tickC <-chan time.Time
		if l.polling || l.anyLost() {
			tickC = tick.C
		}
		if at, ok := l.nextDeadline(); ok {
			timer.Reset(time.Until(at))
		} else {
			timer.Stop()
		}

		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				// fsnotify gave up; keep going by polling.
				events, errs = nil, nil
				w.close()
				w.setMode("polling: file events stopped")
				l.startPolling(time.Now())
				tick.Reset(w.opts.PollEvery)
				continue
			}
			l.event(ev, time.Now())
		case err, ok := <-errs:
			if !ok {
				errs = nil // Events closes too; that case switches to polling
				continue
			}
			l.error(err, time.Now())
		case err := <-w.opts.inject:
			l.error(err, time.Now())
		case now := <-tickC:
			if l.polling {
				l.poll(now)
			} else {
				l.findLost(now)
			}
		case <-timer.C:
			// On a starved box the timer and more events can be ready
			// together; events already waiting belong to the burst.
			l.drain(events)
			l.fire(time.Now())
		case out <- next:
			d := l.queue[0]
			l.queue = l.queue[1:]
			d.delivered, d.pendingFiles, d.out = d.pendingFiles, nil, Change{}
			w.logf("delivered %s", d.given)
		}
	}
}

// loop is Run's state; only Run's goroutine uses it.
type loop struct {
	w       *Watcher
	byPath  map[string]*dirState
	queue   []*dirState // directories with a pending Change, oldest first
	polling bool
}

// event handles one fsnotify event.
func (l *loop) event(ev fsnotify.Event, now time.Time) {
	o := &l.w.opts
	if o.drop != nil && o.drop(ev) {
		l.w.logf("dropped %s %s", ev.Op, ev.Name)
		return
	}
	l.w.logf("event %s %s", ev.Op, ev.Name)
	name := filepath.Clean(ev.Name)
	if d := l.byPath[name]; d != nil {
		// The directory itself was deleted or moved away; fsnotify has
		// dropped its watch. findLost watches it again once it is back.
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			d.lost = true
			l.touch(d, now)
		}
		return
	}
	d := l.byPath[filepath.Dir(name)]
	if d == nil {
		return
	}
	base := filepath.Base(name)
	if isTemp(base) || !o.Match(base) {
		return
	}
	// Chmod alone never changes content; a rename-over arrives as a bare
	// Create of the target.
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
		return
	}
	l.touch(d, now)
}

// drain handles the events that are ready without waiting for more.
func (l *loop) drain(events <-chan fsnotify.Event) {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return // Run's select sees the closed channel next
			}
			l.event(ev, time.Now())
		default:
			return
		}
	}
}

// error handles an error from fsnotify. After an overflow, events were lost,
// so every directory is hashed again.
func (l *loop) error(err error, now time.Time) {
	l.w.logf("error: %v", err)
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		for _, d := range l.w.dirs {
			l.touch(d, now)
		}
	}
}

// touch records an event in d: it starts a burst or extends it.
func (l *loop) touch(d *dirState, now time.Time) {
	if !d.burst {
		d.burst, d.first = true, now
		if s := l.w.opts.Settle; s > 0 && s < l.w.opts.Debounce {
			d.peekAt = now.Add(s)
		}
	}
	d.deadline = now.Add(l.w.opts.Debounce)
	d.retries = readRetries
	d.waited = false
	d.mtimeWaits = maxMtimeWaits
}

// again extends d's burst by one debounce without counting as an event:
// its first event and its retry budget stay as they are.
func (l *loop) again(d *dirState, now time.Time) {
	d.burst = true
	d.deadline = now.Add(l.w.opts.Debounce)
}

// nextDeadline returns when the earliest burst ends.
func (l *loop) nextDeadline() (time.Time, bool) {
	var at time.Time
	ok := false
	for _, d := range l.w.dirs {
		if !d.burst {
			continue
		}
		due := d.deadline
		if !d.peekAt.IsZero() && d.peekAt.Before(due) {
			due = d.peekAt
		}
		if !ok || due.Before(at) {
			at, ok = due, true
		}
	}
	return at, ok
}

// fire hashes every directory whose burst is over, and takes the early look
// at every burst that is due for one.
func (l *loop) fire(now time.Time) {
	for _, d := range l.w.dirs {
		if d.burst && !d.peekAt.IsZero() && !now.Before(d.peekAt) {
			d.peekAt = time.Time{}
			l.peek(d)
		}
		if !d.burst || now.Before(d.deadline) {
			continue
		}
		// The events of a write can lag behind the write itself when the
		// process is starved; the file's mtime cannot. A file written
		// less than a debounce ago means the burst is not over.
		if d.mtimeWaits > 0 {
			if at := lastWrite(d.path, l.w.opts.Match, now).Add(l.w.opts.Debounce); at.After(now) {
				l.w.logf("%s: written %v ago, waiting", d.given, now.Sub(at)+l.w.opts.Debounce)
				d.mtimeWaits--
				d.deadline = at
				continue
			}
		}
		d.burst = false
		l.rescan(d, now)
	}
}

// current is the content the consumer has or is about to get.
func (d *dirState) current() map[string]string {
	if d.pendingFiles != nil {
		return d.pendingFiles
	}
	return d.delivered
}

// peek looks at d early in its burst and offers the content if it looks
// like a finished save: readable, no file missing and none empty. Anything
// else is left to the end of the burst, which looks again in any case.
func (l *loop) peek(d *dirState) {
	files, gone, err := hashDir(d.path, l.w.opts.Match)
	if gone || err != nil || l.halfway(d, files) {
		l.w.logf("%s: early look found a save in progress", d.given)
		return
	}
	current := d.current()
	if sameFiles(files, current) {
		l.w.logf("%s: early look: same content", d.given)
		return
	}
	l.w.logf("%s: early look", d.given)
	l.offer(d, files, d.first)
}

// emptySum is the sha256 of no bytes.
const emptySum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// rescan hashes d at the end of its burst and offers the result.
func (l *loop) rescan(d *dirState, now time.Time) {
	files, gone, err := hashDir(d.path, l.w.opts.Match)
	switch {
	case gone:
		// Report nothing while the directory is missing: the consumer
		// keeps its last state, and the content it finds when the
		// directory is back is compared with that.
		l.w.logf("%s is gone", d.given)
		if !l.polling {
			d.lost = true
		}
		return
	case err != nil:
		l.w.logf("rescan %s: %v", d.given, err)
		if d.retries > 0 {
			d.retries--
			l.again(d, now)
		}
		return
	}
	// Some states are usually half-way through a save: an editor that saves
	// in place (VS Code) truncates the file and then writes it; one that
	// saves by renaming (vim, JetBrains, emacs) has the file missing for a
	// moment; a reset empties the directory and fills it again. If the
	// second half lags by more than a debounce, as on a starved machine,
	// the first half would be reported as a change of its own. So an empty
	// or missing file is believed only after one more debounce; real
	// deletions and emptied files are rare and merely wait a little longer.
	if !d.waited && l.halfway(d, files) {
		l.w.logf("%s: a file is empty or missing, waiting once more", d.given)
		d.waited = true
		l.again(d, now)
		return
	}
	l.offer(d, files, d.first)
}

// halfway reports whether files has an empty file or lacks one the
// consumer has or is about to get.
func (l *loop) halfway(d *dirState, files map[string]string) bool {
	current := d.current()
	for name := range current {
		if _, ok := files[name]; !ok {
			return true
		}
	}
	return slices.Contains(slices.Collect(maps.Values(files)), emptySum)
}

// offer queues files as d's next Change if they differ from what the
// consumer has or will get, replacing an undelivered Change.
func (l *loop) offer(d *dirState, files map[string]string, seen time.Time) {
	current := d.current()
	if sameFiles(files, current) {
		l.w.logf("%s: content unchanged", d.given)
		return
	}
	if sameFiles(files, d.delivered) {
		// Back to what the consumer already has: withdraw the pending one.
		l.w.logf("%s: back to delivered content, pending change withdrawn", d.given)
		d.pendingFiles, d.out = nil, Change{}
		l.unqueue(d)
		return
	}
	if d.pendingFiles == nil {
		l.queue = append(l.queue, d)
	}
	d.pendingFiles = files
	d.out = Change{Dir: d.given, Files: maps.Clone(files), Seen: seen}
	l.w.logf("%s: change queued (%d files)", d.given, len(files))
}

func (l *loop) unqueue(d *dirState) {
	for i, q := range l.queue {
		if q == d {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return
		}
	}
}

func (l *loop) anyLost() bool {
	for _, d := range l.w.dirs {
		if d.lost {
			return true
		}
	}
	return false
}

// findLost watches again every lost directory that exists again.
func (l *loop) findLost(now time.Time) {
	for _, d := range l.w.dirs {
		if !d.lost {
			continue
		}
		if fi, err := os.Stat(d.path); err != nil || !fi.IsDir() {
			continue
		}
		if err := l.w.fsw.Add(d.path); err != nil {
			l.w.logf("watch %s again: %v", d.given, err)
			continue
		}
		l.w.logf("watching %s again", d.given)
		d.lost = false
		// Whatever was written before the new watch existed is found by
		// hashing.
		l.touch(d, now)
	}
}

// startPolling switches a running loop from events to polling.
func (l *loop) startPolling(now time.Time) {
	l.polling = true
	for _, d := range l.w.dirs {
		d.lost = false
		d.stamps = stampDir(d.path, l.w.opts.Match)
		l.touch(d, now)
	}
}

// poll looks at every directory and starts a burst where anything moved.
func (l *loop) poll(now time.Time) {
	for _, d := range l.w.dirs {
		s := stampDir(d.path, l.w.opts.Match)
		if sameStamps(s, d.stamps) {
			continue
		}
		l.w.logf("poll: %s changed", d.given)
		d.stamps = s
		l.touch(d, now)
	}
}
