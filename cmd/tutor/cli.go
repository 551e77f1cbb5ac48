package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a lesson checked did not pass, or verification failed
	exitProblem = 2 // a usage error or an internal error
)

// exitError carries an exit code and a one-line message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitProblem, msg: fmt.Sprintf(format, args...)}
}

// errFailed makes run exit 1 without printing anything more.
var errFailed = &exitError{code: exitFailed}

// env is what every command gets.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	workspace      string // the --workspace flag or TUTOR_WORKSPACE, "" → default
	course         *lessons.Course
}

// command is one subcommand.
type command struct {
	name    string
	args    string // usage of positional arguments
	summary string
	flags   func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "", "serve the course in the browser and check every save (the default)", serveCmd},
		{"init", "", "create or update the workspace, then warm the Go build cache", initCmd},
		{"list", "", "list the lessons with their status", listCmd},
		{"check", "[ID...]", "run the hidden checks (default: the first lesson not passed)", checkCmd},
		{"watch", "", "check every save, in the terminal", watchCmd},
		{"hint", "ID", "show the next hint of a lesson", hintCmd},
		{"reset", "ID", "restore a lesson's starter files (after a backup)", resetCmd},
		{"solution", "ID", "show the reference solution of a passed lesson", solutionCmd},
		{"verify", "[ID...]", "for authors: check that every lesson's variants behave as declared", verifyCmd},
		{"new", "NN-slug", "for authors: create a lesson skeleton in the repository's lessons/", newCmd},
		{"doctor", "", "check this machine and the workspace", doctorCmd},
		{"run", "ID", "serve your code for a lesson on http://127.0.0.1:8080, rebuilt on every save", runCmd},
		{"class", "", "for instructors: run a class server and its live dashboard", classCmd},
		{"join", "URL", "join a class (the address `tutor class` printed) with --name", joinCmd},
		{"lab", "NAME", "run a built-in experiment (async-vs-sync, cores, workers or queue) and print its table", labCmd},
	}
}

// run is the whole program: it parses args, runs one command and returns
// the exit code. Errors are printed as one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	err := dispatch(ctx, e, args)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "tutor: "+ee.msg)
		}
		return ee.code
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "tutor: interrupted")
		return exitProblem
	}
	fmt.Fprintln(stderr, "tutor: "+firstLine(err.Error()))
	return exitProblem
}

func firstLine(s string) string {
	// Loader errors are many lines (one per problem); keep them all.
	return strings.TrimSpace(s)
}

func dispatch(ctx context.Context, e *env, args []string) error {
	// Global flags may come before the command.
	name := "serve"
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help" || a == "-help" || a == "help":
			if a == "help" && i+1 < len(args) {
				return commandHelp(e, args[i+1])
			}
			printUsage(e.stdout)
			return nil
		case a == "--version" || a == "version":
			c, err := e.load()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "tutor (github.com/gotutor/tutor), %d lessons, %s\n", len(c.Lessons), runtime.Version())
			return nil
		case strings.HasPrefix(a, "-"):
			rest = append(rest, a)
			if !strings.Contains(a, "=") && takesValue(a) && i+1 < len(args) {
				rest = append(rest, args[i+1])
				i++
			}
		default:
			name = a
			rest = append(rest, args[i+1:]...)
			i = len(args)
		}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
		}
	}
	if cmd == nil {
		var names []string
		for _, c := range commands() {
			names = append(names, c.name)
		}
		return usageErr("unknown command %q (valid: %s)", name, strings.Join(names, ", "))
	}
	fs := flag.NewFlagSet("tutor "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.workspace, "workspace", "", "the workspace directory (default: the workspace you are in, else ./"+workspace.DefaultDir+"; or $TUTOR_WORKSPACE)")
	runCmd := cmd.flags(fs)
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		return commandHelp(e, cmd.name)
	}
	if err != nil {
		return usageErr("%s: %s (valid flags: %s)", cmd.name, flagErr(err), flagNames(fs))
	}
	return runCmd(ctx, e, pos)
}

// takesValue reports whether a global flag needs the next argument.
func takesValue(a string) bool {
	n := strings.TrimLeft(a, "-")
	return n == "workspace" || n == "class" || n == "name" // `tutor --class URL --name NAME` serves in a class
}

// parseInterleaved parses flags that may appear before, between or after
// positional arguments, as in `tutor check 02 --json`.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func flagErr(err error) string {
	s := err.Error()
	if n, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return "unknown flag " + n
	}
	return s
}

func flagNames(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) }) // VisitAll goes in lexical order
	return strings.Join(names, ", ")
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `tutor: an interactive course on server concurrency (sync vs async, CPU work, pool limits).

Usage: tutor [command] [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %-8s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprint(w, `
With no command, tutor serves the course on http://127.0.0.1:7070 and checks every save.
Every command takes --workspace DIR (default: the workspace you are in, else ./tutor-workspace; or $TUTOR_WORKSPACE).
A lesson ID can be written 02 or 02-event-loop. "tutor help COMMAND" shows a command's flags.
`)
}

func commandHelp(e *env, name string) error {
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		fs := flag.NewFlagSet("tutor "+c.name, flag.ContinueOnError)
		fs.String("workspace", "", "the workspace directory (default: the workspace you are in, else ./"+workspace.DefaultDir+"; or $TUTOR_WORKSPACE)")
		c.flags(fs)
		fmt.Fprintf(e.stdout, "Usage: tutor %s [flags] %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.summary)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		if c.name == "watch" {
			fmt.Fprint(e.stdout, watchKeys)
		}
		return nil
	}
	return usageErr("unknown command %q", name)
}

// load returns the embedded course, loading it once.
func (e *env) load() (*lessons.Course, error) {
	if e.course != nil {
		return e.course, nil
	}
	c, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		return nil, fmt.Errorf("the embedded course is broken: %w", err)
	}
	e.course = c
	return c, nil
}

// workspaceDir resolves --workspace, TUTOR_WORKSPACE, the workspace the
// current directory is in, and the default.
func (e *env) workspaceDir() string {
	if e.workspace != "" {
		return e.workspace
	}
	if d := e.getenv("TUTOR_WORKSPACE"); d != "" {
		return d
	}
	if root := workspace.Enclosing("."); root != "" {
		return root
	}
	return workspace.DefaultDir
}

// openFor resolves lesson IDs against the course first (an unknown ID is a
// usage error whether or not a workspace exists), then opens the workspace.
func (e *env) openFor(mustExist bool, ids []string) (*app.App, []*lessons.Lesson, error) {
	c, err := e.load()
	if err != nil {
		return nil, nil, err
	}
	ls, err := lessonsArg(c, ids)
	if err != nil {
		return nil, nil, err
	}
	a, err := e.open(mustExist)
	return a, ls, err
}

// open loads the course and opens the workspace; with mustExist, a missing
// workspace is an error that says how to create it.
func (e *env) open(mustExist bool) (*app.App, error) {
	c, err := e.load()
	if err != nil {
		return nil, err
	}
	ws, err := workspace.Open(e.workspaceDir())
	if errors.Is(err, workspace.ErrNested) {
		return nil, usageErr("%v", err)
	}
	if err != nil {
		return nil, err
	}
	if mustExist && !ws.Exists() {
		return nil, usageErr("no workspace at %s; create it with `tutor init` (or pass --workspace DIR)", ws.Root)
	}
	a, err := app.New(c, ws, e.getenv("TUTOR_GO"))
	if err != nil {
		return nil, err
	}
	// A damaged progress file is kept aside and reported in one line, by
	// every command, before it does anything else.
	a.Progress.OnDamaged(func(d workspace.Damaged) { fmt.Fprintln(e.stderr, "tutor: "+d.Message()) })
	if ws.Exists() {
		a.Progress.Load()
	}
	return a, nil
}

// notSaved prints the one line that says progress could not be saved, after
// the command has shown what it did; it returns err if it is another error.
func (e *env) notSaved(err error) error {
	if errors.Is(err, workspace.ErrNotSaved) {
		fmt.Fprintf(e.stderr, "tutor: your progress could not be saved (%v); what is shown above is not remembered\n", strings.TrimPrefix(err.Error(), workspace.ErrNotSaved.Error()+": "))
		return nil
	}
	return err
}

// lessonsArg resolves lesson IDs; none means def.
func lessonsArg(c *lessons.Course, ids []string) ([]*lessons.Lesson, error) {
	var out []*lessons.Lesson
	for _, id := range ids {
		l, err := c.Lesson(id)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// openOne is openFor for commands that take exactly one lesson ID.
func (e *env) openOne(cmd string, args []string) (*app.App, *lessons.Lesson, error) {
	if len(args) != 1 {
		return nil, nil, usageErr("%s needs exactly one lesson ID, e.g. `tutor %s 02`", cmd, cmd)
	}
	a, ls, err := e.openFor(true, args)
	if err != nil {
		return nil, nil, err
	}
	return a, ls[0], nil
}
