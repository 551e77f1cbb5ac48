package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/site"
)

const defaultAddr = "127.0.0.1:7070"

func serveCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	addr := fs.String("addr", defaultAddr, "address to serve on (loopback by default; if 7070 is taken, the next free port is used)")
	open := fs.Bool("open", false, "open the course in the browser")
	dev := fs.String("dev", "", "read templates and static files from this directory (the repository's site/), for development")
	editor := fs.String("editor", "", "command that opens a file in your editor, e.g. \"code -g\" or \"gvim\" (default: vscode:// links)")
	poll := fs.Bool("poll", false, "notice saves by polling instead of file events (network drives, WSL /mnt)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErr("serve takes no arguments, got %q (a lesson is opened from the page)", args[0])
		}
		a, err := e.open(false)
		if err != nil {
			return err
		}
		if err := initWorkspace(a, e.stdout); err != nil {
			return err
		}
		ln, err := listen(*addr, *addr == defaultAddr)
		if err != nil {
			return usageErr("cannot serve on %s: %v (choose another with --addr)", *addr, err)
		}
		hosts := allowedHosts(ln.Addr().(*net.TCPAddr), *addr)
		live := app.NewLive(a, *editor)
		s, err := site.New(site.Config{Course: a.Course, Backend: live, Hosts: hosts, Dev: *dev, Editor: *editor})
		if err != nil {
			ln.Close()
			return err
		}
		url := "http://" + hosts[0] + "/"
		fmt.Fprintf(e.stdout, "\nThe course is at %s\nYour workspace is %s: edit the lesson files there in your editor and save.\nPress Ctrl-C to stop.\n", url, a.WS.Root)
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			fmt.Fprintf(e.stderr, "tutor: warning: serving on %s, which other machines can reach\n", ln.Addr())
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// Requests inherit ctx, so live-update streams end at shutdown.
		srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
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

// allowedHosts lists the Host header values the page may be reached by:
// the loopback names with the bound port, plus the host given in --addr.
func allowedHosts(a *net.TCPAddr, given string) []string {
	port := strconv.Itoa(a.Port)
	hosts := []string{net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("localhost", port), net.JoinHostPort("::1", port)}
	if h, _, err := net.SplitHostPort(given); err == nil && h != "" && h != "127.0.0.1" && h != "localhost" {
		hosts = append(hosts, net.JoinHostPort(h, port))
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
