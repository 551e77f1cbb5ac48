package main

import (
	"bytes"
	"testing"
	"time"
)

func TestPercentileAndMedian(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		in      []time.Duration
		p95     time.Duration
		median  time.Duration
		comment string
	}{
		{nil, 0, 0, "empty"},
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond, "one"},
		{ms(3, 1, 2), 3 * time.Millisecond, 2 * time.Millisecond, "odd count, unsorted"},
		{ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), 10 * time.Millisecond, 5500 * time.Microsecond, "ten: p95 is the slowest"},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 19 * time.Millisecond, 10500 * time.Microsecond, "twenty: p95 is the 19th"},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, 0.95); got != tt.p95 {
			t.Errorf("percentile(%v, 0.95) = %v, want %v (%s)", tt.in, got, tt.p95, tt.comment)
		}
		if got := median(tt.in); got != tt.median {
			t.Errorf("median(%v) = %v, want %v (%s)", tt.in, got, tt.median, tt.comment)
		}
	}
}

func TestMarkedMovesCode(t *testing.T) {
	code := []byte("package p\n")
	tests := []struct {
		seq       int
		wantLines int
	}{
		{1, 3},
		{5, 7},
	}
	for _, tt := range tests {
		got := marked(code, tt.seq)
		if n := bytes.Count(got, []byte("\n")); n != tt.wantLines {
			t.Errorf("marked(%q, %d) has %d lines, want %d", code, tt.seq, n, tt.wantLines)
		}
		if !bytes.HasSuffix(got, code) {
			t.Errorf("marked(%q, %d) = %q, want it to end with the content", code, tt.seq, got)
		}
	}
}

func TestSplit(t *testing.T) {
	s := func(build, run time.Duration) sample {
		return sample{total: build + run + 200*time.Millisecond, build: build, run: run, debounce: 100 * time.Millisecond, content: "solution"}
	}
	tests := []struct {
		in   []sample
		want string
	}{
		{[]sample{s(1500*time.Millisecond, 300*time.Millisecond)}, "2000 ms = noticed 0 + debounce 100 + build 1500 + run 300 + other 0 + reported 0 (largest: build)"},
		{[]sample{s(300*time.Millisecond, 1500*time.Millisecond)}, "2000 ms = noticed 0 + debounce 100 + build 300 + run 1500 + other 0 + reported 0 (largest: run)"},
	}
	for _, tt := range tests {
		if got := split(tt.in, "solution"); got != tt.want {
			t.Errorf("split(%v, %q) = %q, want %q", tt.in, "solution", got, tt.want)
		}
	}
}

func TestFailureLine(t *testing.T) {
	tests := []struct {
		out, want string
	}{
		{"--- FAIL: TestConcurrent (1.2s)\n    check_test.go:40: 10 requests took 1.0 s\nFAIL\nFAIL\tp\t1.3s\n", "check_test.go:40: 10 requests took 1.0 s"},
		{"# p\n./ping.go:3:2: undefined: x\nFAIL\tp [build failed]\n", "./ping.go:3:2: undefined: x"},
		{"ok  \tp\t0.9s\n", ""},
	}
	for _, tt := range tests {
		if got := failureLine([]byte(tt.out)); got != tt.want {
			t.Errorf("failureLine(%q) = %q, want %q", tt.out, got, tt.want)
		}
	}
}
