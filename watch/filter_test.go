package watch

import "testing"

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		temp   bool // isTemp
		counts bool // counts under the default Match
	}{
		{"exercise.go", false, true},
		{"mine.go", false, true},
		{"exercise_test.go", false, true},
		{"notes.txt", false, false},
		{"go.mod", false, false},
		{".exercise.go.swp", true, false},
		{".exercise.go.swo", true, false},
		{"exercise.go.swp", true, false},
		{"exercise.go.swx", true, false},
		{"4913", true, false},
		{"5036", true, false},
		{"exercise.go~", true, false},
		{"sedAb12Cd", true, false},
		{"sed", false, false},
		{"exercise.go___jb_tmp___", true, false},
		{"exercise.go___jb_old___", true, false},
		{"exercise.go.vsctmp", true, false},
		{"exercise.go.tmp", true, false},
		{"#exercise.go#", true, false},
		{".#exercise.go", true, false},
		{".exercise.go1234567", true, false},
		{probePrefix + "123", true, false},
		{"server.go", false, true},
		{"swap.go", false, true},
	}
	for _, tt := range tests {
		counts := !isTemp(tt.name) && defaultMatch(tt.name)
		if got := isTemp(tt.name); got != tt.temp {
			t.Errorf("isTemp(%q) = %v, want %v", tt.name, got, tt.temp)
		}
		if counts != tt.counts {
			t.Errorf("counts(%q) = %v, want %v", tt.name, counts, tt.counts)
		}
	}
}
