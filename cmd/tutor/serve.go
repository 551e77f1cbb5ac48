package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/workspace"
)

const defaultAddr = "127.0.0.1:7070"

func serveCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	addr := fs.String("addr", defaultAddr, "address to serve on (loopback by default; if 7070 is taken, the next free port is used; any other address needs the token printed in the URL)")
	open := fs.Bool("open", false, "open the course in the browser")
	dev := fs.String("dev", "", "read templates and static files from this directory (the repository's site/), for development")
	editor := fs.String("editor", "", "command that opens a file in your editor, e.g. \"code -g\" or \"gvim\" (default: vscode:// links)")
	poll := fs.Bool("poll", false, "notice saves by polling instead of file events (network drives, WSL /mnt)")
	token := fs.String("token", "", "require this token on every request (default: a random one when --addr is not loopback, none on loopback)")
	classURL := fs.String("class", "", "join the class at this address (the one `tutor class` printed) and report to it; see `tutor join`")
	name := fs.String("name", "", "your display name in the class (with --class)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("serve takes no arguments, got %q (a lesson is opened from the page)", args[0])
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		// A workspace the tutor cannot write to is served read-only:
		// every save is still checked and shown, nothing is recorded.
		readOnly := a.WS.Exists() && a.WS.Writable() != nil
		// One live tutor per workspace: a second would check every save twice.
		claim, err := a.WS.ClaimServe()
		var busy *workspace.BusyError
		switch {
		case errors.As(err, &busy):
			return &exitError{code: exitProblem, msg: busy.Error()}
		case err != nil && !readOnly:
			fmt.Fprintf(e.stderr, "tutor: could not make sure no other tutor serves this workspace (%v); serving anyway\n", err)
		}
		if claim != nil {
			defer claim.Release()
		}
		if readOnly {
			fmt.Fprintf(e.stderr, "tutor: your workspace %s is read-only (%v): every save is still checked and shown, but progress is not saved\n", a.WS.Root, a.WS.Writable())
		} else if err := initWorkspace(a, e.stdout); err != nil {
			return err
		}
		ln, err := listen(*addr, *addr == defaultAddr)
		if err != nil {
			return usageErr("cannot serve on %s: %v (choose another with --addr)", *addr, err)
		}
		bound := ln.Addr().(*net.TCPAddr)
		tok := *token
		if tok == "" && !bound.IP.IsLoopback() {
			if tok, err = site.NewToken(); err != nil {
				ln.Close()
				return fmt.Errorf("make a token: %w", err)
			}
		}
		hosts := allowedHosts(bound, *addr)
		live := app.NewLive(a, *editor)
		var backend site.Backend = live
		// In a class (tutor join, or --class), results are also reported
		// to the class server, from goroutines of their own.
		cctx, ccancel := context.WithCancel(ctx)
		var cwg sync.WaitGroup
		defer func() { ccancel(); cwg.Wait() }()
		if cb, err := startClassSender(cctx, &cwg, e, a, live, *classURL, *name); err != nil {
			ln.Close()
			return err
		} else if cb != nil {
			backend = cb
		}
		s, err := site.New(site.Config{Course: a.Course, Backend: backend, Labs: live, Hosts: hosts, Dev: *dev, Editor: *editor, Token: tok})
		if err != nil {
			ln.Close()
			return err
		}
		url := "http://" + hosts[0] + "/" + tokenQuery(tok)
		fmt.Fprintf(e.stdout, "\nThe course is at %s\n", url)
		if bound.IP.IsUnspecified() {
			fmt.Fprintf(e.stdout, "From this machine: http://%s/%s\n", net.JoinHostPort("127.0.0.1", strconv.Itoa(bound.Port)), tokenQuery(tok))
		}
		fmt.Fprintf(e.stdout, "Your workspace is %s: edit the lesson files there in your editor and save.\nPress Ctrl-C to stop.\n", a.WS.Root)
		if !bound.IP.IsLoopback() {
			fmt.Fprintf(e.stderr, "tutor: serving on %s, which other machines can reach: only a browser that opened the address above (with its token) gets in\n", ln.Addr())
		}
		if claim != nil {
			if err := claim.Announce(url); err != nil {
				fmt.Fprintln(e.stderr, "tutor: "+err.Error())
			}
		}
		if _, err := a.Progress.Load(); err != nil {
			fmt.Fprintln(e.stderr, "tutor: "+err.Error())
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		srv := site.NewHTTPServer(s, site.DefaultTimeouts())
		// Requests inherit ctx, so live-update streams end at shutdown.
		srv.BaseContext = func(net.Listener) context.Context { return ctx }
		var wg sync.WaitGroup
		// Subscribed before the live loop starts, so "ready" is never missed.
		notices := live.Updates(ctx)
		// The live loop ends when ctx is done.
		wg.Go(func() {
			if err := live.Run(ctx, app.LiveOptions{Poll: *poll}); err != nil {
				fmt.Fprintln(e.stderr, "tutor: "+err.Error())
				cancel()
			}
		})
		// The notice printer ends when ctx is done.
		wg.Go(func() { printNotices(notices, e) })
		// The shutdown goroutine ends when ctx is done and the server stopped.
		wg.Go(func() {
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
			defer c()
			srv.Shutdown(sctx)
		})
		if *open {
			openBrowser(url)
		}
		err = srv.Serve(ln)
		cancel()
		wg.Wait()
		if errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(e.stdout, "Stopped.")
			return nil
		}
		return err
	}
}

// tokenQuery is the URL query that carries tok ("" without one).
func tokenQuery(tok string) string {
	if tok == "" {
		return ""
	}
	return "?token=" + tok
}

// printNotices echoes course-wide notices (warming, polling) to the terminal.
// It ends when updates is closed (the tutor is stopping).
func printNotices(updates <-chan app.Update, e *env) {
	last := "\x00" // nothing printed yet: the first notice, even "", is shown
	for u := range updates {
		if u.Kind == app.KindNotice && u.Notice != last {
			last = u.Notice
			if u.Notice != "" {
				fmt.Fprintln(e.stdout, u.Notice)
			} else {
				fmt.Fprintln(e.stdout, "Ready: every save is checked.")
			}
		}
		if u.Kind == app.KindResult && u.State.Result != nil {
			fmt.Fprintf(e.stdout, "%s  %s\n", u.Lesson, u.State.Result.Summary)
		}
	}
}

// listen binds addr; with next, a taken port moves on to the next ones.
func listen(addr string, next bool) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil || !next || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	for i := 1; i <= 20; i++ {
		if ln, err2 := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p+i))); err2 == nil {
			return ln, nil
		}
	}
	return nil, err
}

// allowedHosts lists the Host header values the page may be reached by,
// the one to print first: on loopback, the loopback names; on one address,
// that address and the name given in --addr; on every interface
// (0.0.0.0, ::), the loopback names, this machine's addresses and its host
// name. All with the bound port.
func allowedHosts(a *net.TCPAddr, given string) []string {
	port := strconv.Itoa(a.Port)
	var names []string
	h, _, _ := net.SplitHostPort(given)
	switch {
	case a.IP.IsLoopback():
		names = append(names, "127.0.0.1", "localhost", "::1", h)
	case a.IP.IsUnspecified():
		if addrs, err := net.InterfaceAddrs(); err == nil {
			var v4, v6 []string
			for _, ad := range addrs {
				ipn, ok := ad.(*net.IPNet)
				if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
					continue
				}
				if ipn.IP.To4() != nil {
					v4 = append(v4, ipn.IP.String())
				} else {
					v6 = append(v6, ipn.IP.String())
				}
			}
			names = append(names, v4...) // the first one is printed: most rooms use IPv4
			names = append(names, v6...)
		}
		if hn, err := os.Hostname(); err == nil {
			names = append(names, hn)
		}
		names = append(names, "127.0.0.1", "localhost", "::1", h)
	default:
		names = append(names, a.IP.String(), h)
	}
	var hosts []string
	for _, n := range names {
		if hp := net.JoinHostPort(n, port); n != "" && !slices.Contains(hosts, hp) {
			hosts = append(hosts, hp)
		}
	}
	return hosts
}

func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go cmd.Wait() // reaps the opener; ends when it exits
	}
}
