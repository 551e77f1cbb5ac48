package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLabTerminal: `tutor lab workers` and `tutor lab queue` print an
// aligned table (every table line the same width, a rule under the
// header), and knob mistakes are one-line usage errors.
func TestLabTerminal(t *testing.T) {
	ws := t.TempDir()
	for _, tt := range []struct {
		args []string
		head string
		rows int
	}{
		{[]string{"lab", "workers", "--workers", "1,2", "--pool", "10", "--requests", "20", "--blocking", "2", "--unit", "10ms"}, "workers  sync slots", 2},
		{[]string{"lab", "queue", "--pool", "2", "--service", "1ms", "--loads", "50,80", "--requests", "20"}, "load  λ asked", 2},
	} {
		out, errOut, code := tutor(t, ws, tt.args...)
		if code != 0 {
			t.Fatalf("tutor %v: exit %d: %s", tt.args, code, errOut)
		}
		lines := strings.Split(out, "\n")
		start := -1
		for i, l := range lines {
			if strings.HasPrefix(l, tt.head) {
				start = i
			}
		}
		if start < 0 || start+2+tt.rows > len(lines) {
			t.Fatalf("tutor %v: no table starting %q in:\n%s", tt.args, tt.head, out)
		}
		table := lines[start : start+2+tt.rows]
		if !strings.HasPrefix(table[1], "───") {
			t.Errorf("no rule under the header: %q", table[1])
		}
		for _, l := range table {
			if utf8.RuneCountInString(l) != utf8.RuneCountInString(table[0]) {
				t.Errorf("tutor %v: table lines differ in width:\n%s", tt.args, strings.Join(table, "\n"))
				break
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lab", "queue", "--jobs", "3"}, "lab queue: --jobs is not a knob of this lab"},
		{[]string{"lab", "queue", "--loads", "50,x"}, `lab queue: loads: "x" is not a whole number`},
		{[]string{"lab", "workers", "--workers", "40"}, "workers 40: must be between 1 and 16"},
		{[]string{"lab", "nope"}, "async-vs-sync, cores, workers or queue"},
	} {
		_, errOut, code := tutor(t, ws, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("tutor %v: exit %d, stderr %q; want exit 2 and one line containing %q", tt.args, code, errOut, tt.want)
		}
	}
}
