package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/internal/class"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/workspace"
)

const defaultClassAddr = "0.0.0.0:7171"

// classKeys are the class's secrets, kept beside its log so that a
// restarted class server keeps the addresses it printed.
type classKeys struct {
	Instructor string `json:"instructor"`
	JoinCode   string `json:"join_code"`
}

func loadClassKeys(dir string) (classKeys, error) {
	path := filepath.Join(dir, "class-keys.json")
	var k classKeys
	b, err := os.ReadFile(path)
	if err == nil && json.Unmarshal(b, &k) == nil && k.Instructor != "" && k.JoinCode != "" {
		return k, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return k, fmt.Errorf("read the class keys: %w", err)
	}
	if k.Instructor, err = site.NewToken(); err != nil {
		return k, err
	}
	code, err := site.NewToken()
	if err != nil {
		return k, err
	}
	k.JoinCode = code[:16] // 64 bits: short enough to type, and joins are rate-limited
	b, _ = json.MarshalIndent(k, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return k, fmt.Errorf("save the class keys: %w", err)
	}
	return k, nil
}

func classCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	addr := fs.String("addr", defaultClassAddr, "address to serve the class on (every interface by default, so that the room's laptops reach it)")
	dir := fs.String("dir", "tutor-class", "directory of the class's log and keys (kept across restarts)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("class takes no arguments, got %q", args[0])
		}
		c, err := e.load()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fmt.Errorf("make the class directory: %w", err)
		}
		keys, err := loadClassKeys(*dir)
		if err != nil {
			return err
		}
		var ls []class.Lesson
		for _, l := range c.Lessons {
			ls = append(ls, class.Lesson{ID: l.ID, Title: l.Title})
		}
		cs, err := class.NewServer(class.Config{LogPath: filepath.Join(*dir, "class.log"), Lessons: ls, InstructorToken: keys.Instructor, JoinCode: keys.JoinCode})
		if err != nil {
			return err
		}
		defer cs.Close()
		if r := cs.Recovery(); r.TornBytes > 0 || r.Corrupt > 0 {
			fmt.Fprintf(e.stderr, "tutor: the class log had a torn last record (%d bytes, cut off) and %d damaged records (skipped); %d records kept\n", r.TornBytes, r.Corrupt, r.Records)
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return usageErr("cannot serve the class on %s: %v (choose another with --addr)", *addr, err)
		}
		bound := ln.Addr().(*net.TCPAddr)
		host := allowedHosts(bound, *addr)[0]
		fmt.Fprintf(e.stdout, "\nThe class is open. Learners join with:\n\n    tutor join 'http://%s/join?code=%s' --name \"Their Name\"\n\n", host, keys.JoinCode)
		fmt.Fprintf(e.stdout, "Your dashboard (keep this address to yourself): http://%s/?token=%s\n", host, keys.Instructor)
		fmt.Fprintf(e.stdout, "The class's results are kept in %s. Press Ctrl-C to stop.\n", *dir)
		srv := site.NewHTTPServer(cs, site.DefaultTimeouts())
		srv.BaseContext = func(net.Listener) context.Context { return ctx }
		var wg sync.WaitGroup
		// The shutdown goroutine ends when ctx is done and the server stopped.
		wg.Go(func() {
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
			defer c()
			srv.Shutdown(sctx)
		})
		err = srv.Serve(ln)
		wg.Wait()
		if errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(e.stdout, "Stopped.")
			return nil
		}
		return err
	}
}

func joinCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	name := fs.String("name", "", "your display name on the instructor's dashboard (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usageErr("join needs the class address the instructor printed, e.g. tutor join 'http://192.168.1.20:7171/join?code=…' --name \"Ada\"")
		}
		if strings.TrimSpace(*name) == "" {
			return usageErr("join needs --name: the name the instructor sees")
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		m, err := joinClass(ctx, a, args[0], *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Joined the class at %s as %q.\nStart the tutor as usual (tutor): your results go to the instructor's dashboard — verdicts, check names and numbers, never your code unless you press “Ask for help”.\n", m.Server, m.Name)
		return nil
	}
}

// joinClass registers with the class and keeps the membership in the workspace.
func joinClass(ctx context.Context, a *app.App, url, name string) (*class.Membership, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := class.Join(ctx, &http.Client{Timeout: 10 * time.Second}, url, strings.TrimSpace(name))
	if err != nil {
		return nil, err
	}
	if err := m.Save(filepath.Join(a.WS.Root, workspace.StateDir)); err != nil {
		return nil, err
	}
	return m, nil
}

// classBackend is the live tutor of a learner in a class: the page's
// backend plus the "Ask for help" button ([site.HelpAsker]).
type classBackend struct {
	*app.Live
	a      *app.App
	m      *class.Membership
	sender *class.Sender
}

// ClassServer implements site.HelpAsker.
func (cb *classBackend) ClassServer() string { return cb.m.Server }

// AskForHelp implements site.HelpAsker: the lesson's files as they are on
// the disk now, and its last result, go into the outbox.
func (cb *classBackend) AskForHelp(id string) error {
	l, err := cb.a.Course.Lesson(id)
	if err != nil {
		return err
	}
	files, err := cb.a.WS.Files(l)
	if err != nil {
		return fmt.Errorf("read your files: %w", err)
	}
	st := cb.Live.Snapshot().Lessons[l.ID]
	u := updateOf(l.ID, st)
	u.Help = class.HelpOf(files, st.Result)
	cb.sender.Add(u)
	return nil
}

// updateOf is the summary of a lesson's state the class sees.
func updateOf(id string, st site.LessonState) class.Update {
	u := class.Update{Lesson: id, Status: st.Status, Attempts: st.Attempts, HintsUsed: st.HintsShown}
	if st.Result != nil && st.Result.Verdict != checker.Error {
		u.Verdict = string(st.Result.Verdict)
		u.Failing = class.FailingOf(st.Result)
	}
	return u
}

// reportToClass turns the live tutor's updates into class updates: each
// result, and each change of status, attempts or hints. It ends when
// updates is closed (the tutor is stopping). It never blocks the live
// loop: the hub drops what a slow subscriber misses, and Add does not wait.
func reportToClass(updates <-chan app.Update, s *class.Sender) {
	type told struct {
		status          string
		verdict         string
		attempts, hints int
	}
	last := map[string]told{}
	for up := range updates {
		if up.Lesson == "" || (up.Kind != app.KindResult && up.Kind != app.KindState) {
			continue
		}
		u := updateOf(up.Lesson, up.State)
		now := told{u.Status, u.Verdict, u.Attempts, u.HintsUsed}
		if up.Kind == app.KindState && last[up.Lesson] == now {
			continue
		}
		if up.Kind == app.KindState && now.status == string(workspace.NotStarted) && now.hints == 0 {
			continue
		}
		last[up.Lesson] = now
		s.Add(u)
	}
}

// startClassSender loads the workspace's class membership (joining first
// with --class) and starts the sender and the reporter; it returns the
// page's backend and nil when the learner is in no class. Its goroutines
// end when ctx is done; wg waits for them.
func startClassSender(ctx context.Context, wg *sync.WaitGroup, e *env, a *app.App, live *app.Live, classURL, name string) (*classBackend, error) {
	dir := filepath.Join(a.WS.Root, workspace.StateDir)
	m, err := class.LoadMembership(dir)
	if err != nil {
		return nil, err
	}
	if classURL != "" && (m == nil || !strings.HasPrefix(classURL, m.Server+"/")) {
		if strings.TrimSpace(name) == "" {
			return nil, usageErr("--class needs --name: the name the instructor sees")
		}
		if m, err = joinClass(ctx, a, classURL, name); err != nil {
			return nil, err
		}
	}
	if m == nil {
		return nil, nil
	}
	s, err := class.NewSender(*m, dir, class.SenderOptions{})
	if err != nil {
		return nil, err
	}
	updates := live.Updates(ctx)
	// The reporter ends when ctx is done (updates is closed).
	wg.Go(func() { reportToClass(updates, s) })
	// The sender ends when ctx is done.
	wg.Go(func() { s.Run(ctx) })
	// The status printer says once when the class server is away, and
	// when it is back; it ends when ctx is done.
	wg.Go(func() {
		shown := ""
		tk := time.NewTicker(5 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			st := s.Status()
			if (st == "") != (shown == "") {
				if st != "" {
					fmt.Fprintln(e.stderr, "tutor: "+st)
				} else {
					fmt.Fprintln(e.stderr, "tutor: the class server answers again; "+strconv.Itoa(s.Pending())+" updates still to send")
				}
			}
			shown = st
		}
	})
	fmt.Fprintf(e.stdout, "In the class at %s as %q: your verdicts, check names and numbers go to the instructor (your code only when you press “Ask for help”).\n", m.Server, m.Name)
	return &classBackend{Live: live, a: a, m: m, sender: s}, nil
}
