package lessons

import "testing"

func TestProseWordsCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   string
		want int
	}{
		{"plain", "# Title here\n\nOne two three.\n", 5},
		{"fenced code and diagram", "Before.\n\n```go\nfunc f() { x := 1 }\n```\n\n~~~\na b c\n~~~\n\n```text\n0 100 ms\n```\nAfter.\n", 2},
		{"table", "Intro words.\n\n| a | b |\n|---|---|\n| one | two |\n\nEnd.\n", 3},
		{"callout", "> [!NOTE]\n> Four words in here.\n", 4},
		{"html block and inline tag", "<details>\n<summary>Hidden words</summary>\n\nShown <b>bold</b> text.\n", 3},
		{"link target", "See [the docs](https://example.com/a/b/c) now.\n", 4},
		{"punctuation and inline code", "Call `c.Sleep(d)` — then *stop* .\n", 4},
		{"list", "- one item\n- `two` items\n  continued here\n", 6},
	} {
		if got := ProseWords([]byte(tc.md)); got != tc.want {
			t.Errorf("%s: ProseWords = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestProseLength holds every shipped lesson to the Writing standard's
// length: at most MaxProseWords words of prose. Run with -v to see each
// lesson's count: go test ./lessons -run TestProse -v
func TestProseLength(t *testing.T) {
	c, err := Load(Embedded(), "lessons")
	if err != nil {
		t.Fatalf("the shipped course does not load:\n%v", err)
	}
	for _, l := range c.Lessons {
		n := ProseWords(l.Body)
		t.Logf("%s: %d words of prose", l.ID, n)
		if n > MaxProseWords {
			t.Errorf("%s: %d words of prose, more than %d (the Writing standard aims at about 1,200; move method notes to docs/performance.md)", l.Path, n, MaxProseWords)
		}
	}
}
