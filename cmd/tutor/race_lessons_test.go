package main

import (
	"testing"

	"github.com/gotutor/tutor/lessons"
)

func TestRaceLessons(t *testing.T) {
	mk := func(races ...bool) *lessons.Course {
		c := &lessons.Course{}
		for i, r := range races {
			c.Lessons = append(c.Lessons, &lessons.Lesson{Number: string(rune('1' + i)), Race: r})
		}
		return c
	}
	for _, tc := range []struct {
		c    *lessons.Course
		want string
	}{
		{mk(false, false), "no lesson uses it yet"},
		{mk(false, true), "lesson 2 uses it"},
		{mk(true, false, true), "lessons 1, 3 use it"},
	} {
		if got := raceLessons(tc.c); got != tc.want {
			t.Errorf("raceLessons = %q, want %q", got, tc.want)
		}
	}
}
