package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gotutor/tutor/internal/scaffold"
)

// newCmd writes a lesson skeleton into the repository's lessons/ (the
// logic is in internal/scaffold).
func newCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	dir := fs.String("dir", ".", "a directory inside the tutor repository")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usageErr("new: want one lesson id, NN-slug (e.g. tutor new 13-pool-sizes)")
		}
		lessonsDir, err := scaffold.FindLessons(*dir)
		if err != nil {
			return usageErr("new: %v", err)
		}
		names, err := scaffold.Write(lessonsDir, args[0])
		if err != nil {
			return usageErr("new: %v", err)
		}
		show := func(p string) string {
			if wd, err := os.Getwd(); err == nil {
				if r, err := filepath.Rel(wd, p); err == nil {
					return r
				}
			}
			return p
		}
		fmt.Fprintf(e.stdout, "Created %s with %d files:\n", show(filepath.Join(lessonsDir, args[0])), len(names))
		for _, n := range names {
			fmt.Fprintf(e.stdout, "  %s\n", show(filepath.Join(lessonsDir, filepath.FromSlash(n))))
		}
		fmt.Fprintf(e.stdout, "It loads and verifies as it is. Replace the TODOs and the placeholder exercise, then:\n"+
			"  go test ./lessons/\n"+
			"  go run ./cmd/tutor verify %s --runs 3 --load 2\n"+
			"See \"Writing a new lesson\" in lessons/README.md.\n", args[0][:2])
		return nil
	}
}
