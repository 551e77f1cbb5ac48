package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gotutor/tutor/checker"
)

// serial is ten 100 ms requests handled one at a time: a staircase.
func serial() []checker.Span {
	var ss []checker.Span
	for i := range 10 {
		start := float64(i) * 101.5
		ss = append(ss, checker.Span{Label: fmt.Sprintf("ping %d", i+1), StartMS: start, EndMS: start + 100.2, Outcome: "ok"})
	}
	return ss
}

// flat is ten 100 ms requests handled at once: a block.
func flat() []checker.Span {
	var ss []checker.Span
	for i := range 10 {
		start := float64(i) * 0.3
		ss = append(ss, checker.Span{Label: fmt.Sprintf("ping %d", i+1), StartMS: start, EndMS: start + 100.6 + float64(i%3)*0.4, Outcome: "ok"})
	}
	return ss
}

func TestTimelineGolden(t *testing.T) {
	tests := []struct {
		file  string
		spans []checker.Span
		title string
	}{
		{"timeline-serial.golden.html", serial(), "10 requests, time.Sleep in an async handler"},
		{"timeline-flat.golden.html", flat(), "10 requests, c.Sleep"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := Timeline(tt.spans, TimelineOptions{Title: tt.title})
			golden(t, tt.file, []byte(string(got)+"\n"))
		})
	}
}

func TestTimeline(t *testing.T) {
	many := make([]checker.Span, 120)
	for i := range many {
		// Fired in reverse order, so the drawn rows must be re-sorted.
		start := float64(119-i) * 5
		many[i] = checker.Span{Label: fmt.Sprintf("job %d", 120-i), StartMS: start, EndMS: start + 40, Outcome: []string{"ok", "rejected", "late", "probe", "error", "odd"}[i%6]}
	}
	tests := []struct {
		name  string
		spans []checker.Span
		want  []string
		not   []string
		bars  int // rows drawn
	}{
		{
			name:  "serial",
			spans: serial(),
			want:  []string{`aria-label="10 requests; peak 1 in flight at once; total 1.01 s, from 0 to 1014 ms; 10 ok."`, ">peak 1</text>", "ok (10)"},
			bars:  10,
		},
		{
			name:  "flat",
			spans: flat(),
			want:  []string{"10 requests; peak 10 in flight at once; total 104 ms, from 0 to 104 ms; 10 ok.", ">peak 10</text>"},
			bars:  10,
		},
		{
			name:  "no spans",
			spans: nil,
			want:  []string{`<p class="timeline timeline-empty">No timeline: this check recorded no requests.</p>`},
			not:   []string{"<svg"},
		},
		{
			name:  "only invalid spans",
			spans: []checker.Span{{Label: "x", StartMS: math.NaN(), EndMS: 1}},
			want:  []string{"No timeline"},
		},
		{
			name:  "invalid span left out",
			spans: []checker.Span{{Label: "a", StartMS: 0, EndMS: 10, Outcome: "ok"}, {Label: "b", StartMS: math.Inf(1), EndMS: 1}},
			want:  []string{"1 request;", "1 span with invalid times left out."},
			bars:  1,
		},
		{
			name:  "zero-length spans",
			spans: []checker.Span{{Label: "a", StartMS: 5, EndMS: 5, Outcome: "rejected"}, {Label: "b", StartMS: 5, EndMS: 5, Outcome: "rejected"}},
			want:  []string{"2 requests; peak 0 in flight at once; total 0 ms, from 5 to 5 ms; 2 rejected.", `width="2"`},
			bars:  2,
		},
		{
			name:  "end before start is clamped",
			spans: []checker.Span{{Label: "a", StartMS: 50, EndMS: 10}},
			want:  []string{"a: 50 to 50 ms (0 ms), other"},
			bars:  1,
		},
		{
			name:  "labels escaped",
			spans: []checker.Span{{Label: `<script>alert("x")</script>&`, StartMS: 0, EndMS: 1}, {Label: "bad\xff\x00utf8", StartMS: 0, EndMS: 1}},
			want:  []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;", "bad\uFFFDutf8"},
			not:   []string{"<script", "\x00"},
			bars:  2,
		},
		{
			name:  "title escaped",
			spans: serial()[:1],
			want:  []string{`<title>a &lt;b&gt; &amp; c</title>`, `aria-label="a &lt;b&gt; &amp; c: 1 request;`},
			not:   []string{"<b>"},
			bars:  1,
		},
		{
			name:  "120 spans capped at 60 rows",
			spans: many,
			want:  []string{"120 requests; peak 8 in flight", "60 more not drawn", "60 more not listed", "20 ok, 20 error, 20 rejected, 20 late, 20 probe, 20 other", ">job 1</text>"},
			not:   []string{">job 61<", ">job 120<"},
			bars:  60,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title := ""
			if tt.name == "title escaped" {
				title = "a <b> & c"
			}
			got := string(Timeline(tt.spans, TimelineOptions{Title: title}))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Timeline(%s) = %q, want it to contain %q", tt.name, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("Timeline(%s) contains %q, want none", tt.name, n)
				}
			}
			if bars := strings.Count(got, `rx="2"><title>`); bars != tt.bars {
				t.Errorf("Timeline(%s) draws %d bars, want %d", tt.name, bars, tt.bars)
			}
			if err := wellFormed(got); err != nil {
				t.Errorf("Timeline(%s) is not well-formed: %v", tt.name, err)
			}
		})
	}
}

// wellFormed reports whether s parses as XML, which catches unescaped text
// and unbalanced tags.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader("<root>" + s + "</root>"))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestInFlight(t *testing.T) {
	sp := func(a, b float64) checker.Span { return checker.Span{StartMS: a, EndMS: b} }
	tests := []struct {
		name   string
		spans  []checker.Span
		peak   int
		peakAt float64
		steps  string
	}{
		{"back to back", []checker.Span{sp(0, 100), sp(100, 200)}, 1, 0, "0:1 200:0"},
		{"overlapping", []checker.Span{sp(0, 100), sp(50, 150)}, 2, 50, "0:1 50:2 100:1 150:0"},
		{"identical", []checker.Span{sp(0, 10), sp(0, 10), sp(0, 10)}, 3, 0, "0:3 10:0"},
		{"nested", []checker.Span{sp(0, 100), sp(10, 20), sp(30, 40)}, 2, 10, "0:1 10:2 20:1 30:2 40:1 100:0"},
		{"zero length", []checker.Span{sp(5, 5)}, 0, 5, "5:0"},
		{"gap", []checker.Span{sp(0, 10), sp(20, 30)}, 1, 0, "0:1 10:0 20:1 30:0"},
	}
	for _, tt := range tests {
		steps, peak, peakAt := inFlight(tt.spans)
		var b []string
		for _, s := range steps {
			b = append(b, fmt.Sprintf("%s:%d", ms(s.At), s.Count))
		}
		if got := strings.Join(b, " "); got != tt.steps || peak != tt.peak || peakAt != tt.peakAt {
			t.Errorf("inFlight(%s) = %q, peak %d at %v; want %q, peak %d at %v", tt.name, got, peak, peakAt, tt.steps, tt.peak, tt.peakAt)
		}
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct{ raw, want float64 }{
		{0, 1}, {-3, 1}, {math.NaN(), 1}, {0.013, 0.02}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {169, 200}, {250, 500}, {1000, 1000},
	}
	for _, tt := range tests {
		if got := niceStep(tt.raw); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0 ms"}, {0.25, "0.25 ms"}, {12.34, "12.3 ms"}, {850.4, "850 ms"}, {1014.2, "1.01 s"}, {12345, "12.35 s"},
	}
	for _, tt := range tests {
		if got := duration(tt.ms); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func FuzzTimeline(f *testing.F) {
	f.Add("ping 1", 0.0, 100.0, "ok", 3, 50.0, 720)
	f.Add("<script>", -5.0, -1.0, "", 1, 0.0, 0)
	f.Fuzz(func(t *testing.T, label string, start, end float64, outcome string, n int, stagger float64, width int) {
		n = min(max(n, 0), 200)
		ss := make([]checker.Span, n)
		for i := range ss {
			ss[i] = checker.Span{Label: label, StartMS: start + float64(i)*stagger, EndMS: end + float64(i)*stagger, Outcome: outcome}
		}
		got := string(Timeline(ss, TimelineOptions{Title: label, Width: width}))
		if strings.Contains(strings.ToLower(got), "<script") {
			t.Fatalf("Timeline(%q) contains <script", label)
		}
		if err := wellFormed(got); err != nil {
			t.Fatalf("Timeline(%q, %v, %v) is not well-formed: %v", label, start, end, err)
		}
	})
}

func TestTimelineUnfinished(t *testing.T) {
	got := string(Timeline([]checker.Span{
		{Label: "a", StartMS: 0, EndMS: 100, Outcome: "ok"},
		{Label: "b", StartMS: 0, EndMS: 300, Outcome: "unfinished"},
	}, TimelineOptions{}))
	for _, want := range []string{`class="tl-unfinished"`, "unfinished (1)", "ok (1)", "1 unfinished"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
}
