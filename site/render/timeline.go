package render

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gotutor/tutor/checker"
)

// TimelineOptions tunes [Timeline].
type TimelineOptions struct {
	Title string // names the chart, shown above it and read by screen readers; may be empty
	Width int    // in px, clamped to 360–4000; 0 means 720
}

// Timeline limits.
const (
	defaultTimelineWidth = 720
	maxTimelineRows      = 60 // more spans than this are summarised, not drawn
	maxSpanMS            = 24 * 60 * 60 * 1000
)

// outcomeOrder lists the outcomes in legend order; "" is drawn as "other".
// "unfinished" is a span still running when the check took its timeline
// (a request the code under test never answered in time).
var outcomeOrder = []string{"ok", "error", "rejected", "late", "unfinished", "probe", ""}

// timelineStyle is the chart's stylesheet, inside the SVG so the chart is
// complete on its own. Everything is scoped to .tl: an inline SVG's <style>
// applies to the whole page. The colours hold on white and on near-black
// and are strong enough for a projector.
const timelineStyle = `.tl{--tl-ok:#1a7f37;--tl-error:#cf222e;--tl-rejected:#bc4c00;--tl-late:#8250df;--tl-probe:#0969da;--tl-other:#6e7781;--tl-flight:#0969da;--tl-unfinished:#9a6700;` +
	`max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px}` +
	`[data-theme="dark"] .tl{--tl-unfinished:#d29922;--tl-ok:#3fb950;--tl-error:#f85149;--tl-rejected:#f0883e;--tl-late:#bc8cff;--tl-probe:#58a6ff;--tl-other:#8b949e;--tl-flight:#58a6ff}` +
	`@media (prefers-color-scheme:dark){[data-theme="auto"] .tl{--tl-unfinished:#d29922;--tl-ok:#3fb950;--tl-error:#f85149;--tl-rejected:#f0883e;--tl-late:#bc8cff;--tl-probe:#58a6ff;--tl-other:#8b949e;--tl-flight:#58a6ff}}` +
	`.tl text{fill:currentColor}.tl .tl-small{font-size:12px}.tl .tl-title{font-size:15px;font-weight:600}.tl .tl-peak{font-weight:600}` +
	`.tl .tl-grid{stroke:currentColor;stroke-opacity:.14}.tl .tl-axis{stroke:currentColor;stroke-opacity:.55}` +
	`.tl .tl-flight{fill:var(--tl-flight);fill-opacity:.22;stroke:var(--tl-flight);stroke-width:2;stroke-linejoin:round}` +
	`.tl .tl-ok{fill:var(--tl-ok)}.tl .tl-error{fill:var(--tl-error)}.tl .tl-rejected{fill:var(--tl-rejected)}` +
	`.tl .tl-late{fill:var(--tl-late)}.tl .tl-probe{fill:var(--tl-probe)}.tl .tl-unfinished{fill:var(--tl-unfinished);fill-opacity:.45;stroke:var(--tl-unfinished);stroke-width:1.5;stroke-dasharray:4 3}.tl .tl-other{fill:var(--tl-other)}` +
	`.tl-sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}`

// Timeline draws the spans of a check run as an inline SVG: one bar per
// span on a shared time axis, coloured by outcome, under a step chart of how
// many spans were in flight at each moment, with the peak labelled. A serial
// run shows a staircase under a flat line at 1; a concurrent one a block
// under a tall plateau. A visually hidden summary and table follow the SVG
// for screen readers.
//
// Spans are drawn sorted by start; only the first 60 get a row, but the
// in-flight chart and the summary count them all. A span is in flight from
// its start up to, not including, its end, so a span that ends as the next
// begins does not overlap it, and a zero-length span is never in flight.
func Timeline(spans []checker.Span, o TimelineOptions) template.HTML {
	var ss []checker.Span
	invalid := 0
	for _, s := range spans {
		if !plausible(s.StartMS) || !plausible(s.EndMS) {
			invalid++
			continue
		}
		s.EndMS = max(s.EndMS, s.StartMS)
		ss = append(ss, s)
	}
	if len(ss) == 0 {
		note := "No timeline: this check recorded no requests."
		if o.Title != "" {
			note = "No timeline for " + o.Title + ": this check recorded no requests."
		}
		return template.HTML(`<p class="timeline timeline-empty">` + esc(note) + `</p>`)
	}
	slices.SortStableFunc(ss, func(a, b checker.Span) int {
		return cmp.Or(cmp.Compare(a.StartMS, b.StartMS), cmp.Compare(a.EndMS, b.EndMS))
	})
	t := newTimeline(ss, o)
	var b strings.Builder
	b.WriteString(`<div class="timeline">`)
	t.svg(&b)
	t.text(&b, invalid)
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// timeline is the layout of one chart.
type timeline struct {
	spans  []checker.Span // sorted by start
	title  string
	width  float64
	t0, t1 float64 // the time axis, ms
	step   float64 // between ticks, ms
	ticks  int     // tick steps that fit from t0 to t1
	flight []flightStep
	peak   int
	peakAt float64 // when the peak was first reached, ms
	first  float64 // earliest start, ms
	last   float64 // latest end, ms

	plotL, plotR                 float64 // x range of the time axis
	titleY                       float64
	flightTop, flightBottom      float64
	rowsTop, pitch, barH         float64
	labelEvery                   int
	axisY, legendY, overflowY, h float64
	legendItems                  []legendItem
	counts                       []outcomeCount // outcomes present, in outcomeOrder
}

// outcomeCount is how many spans had one outcome.
type outcomeCount struct {
	outcome string // one of outcomeOrder
	n       int
}

// legendItem is one swatch of the legend and where it goes.
type legendItem struct {
	outcome string
	label   string
	x, y    float64 // the text's baseline start; the swatch sits left of it
}

// flightStep says that from At on, Count spans are in flight.
type flightStep struct {
	At    float64
	Count int
}

func newTimeline(ss []checker.Span, o TimelineOptions) *timeline {
	t := &timeline{spans: ss, title: o.Title, width: defaultTimelineWidth}
	if o.Width > 0 {
		t.width = float64(min(max(o.Width, 360), 4000))
	}
	t.first, t.last = ss[0].StartMS, ss[0].EndMS
	for _, s := range ss {
		t.last = max(t.last, s.EndMS)
	}
	t.flight, t.peak, t.peakAt = inFlight(ss)

	t.plotL, t.plotR = 150, t.width-24
	ticks := max(2, int((t.plotR-t.plotL)/90))
	t.t0 = min(0, t.first)
	t.step = niceStep((t.last - t.t0) / float64(ticks))
	t.t0 = math.Floor(t.t0/t.step) * t.step
	// The axis ends just after the last span, not at the next tick, so
	// the bars use the width; ticks stop inside it.
	t.t1 = t.t0 + max(t.last-t.t0, t.step)*1.02
	t.ticks = int(math.Floor((t.t1 - t.t0) / t.step))

	y := 8.0
	if t.title != "" {
		t.titleY = 22
		y = 34
	}
	t.flightTop = y + 20 // room for the peak label
	t.flightBottom = t.flightTop + 56
	t.rowsTop = t.flightBottom + 14
	rows := min(len(ss), maxTimelineRows)
	t.pitch = 22
	if rows > 20 {
		t.pitch = max(8, 440/float64(rows))
	}
	t.barH = math.Round(t.pitch * 0.7)
	t.labelEvery = int(math.Ceil(15 / t.pitch))
	t.axisY = t.rowsTop + float64(rows)*t.pitch + 4
	t.legendY = t.axisY + 42

	for _, oc := range outcomeOrder {
		n := 0
		for _, s := range ss {
			if normOutcome(s.Outcome) == oc {
				n++
			}
		}
		if n > 0 {
			t.counts = append(t.counts, outcomeCount{oc, n})
		}
	}
	// Lay the legend out in lines, wrapping before an item that would pass
	// the right edge; 7.2 px a character over-estimates 12 px text.
	x, y := t.plotL, t.legendY
	for _, c := range t.counts {
		label := fmt.Sprintf("%s (%d)", outcomeName(c.outcome), c.n)
		w := 19 + 7.2*float64(len(label))
		if x > t.plotL && x+w > t.plotR {
			x, y = t.plotL, y+22
		}
		t.legendItems = append(t.legendItems, legendItem{c.outcome, label, x + 19, y})
		x += w + 16
	}
	t.h = y + 10
	if len(ss) > maxTimelineRows {
		t.overflowY = y + 22
		t.h = t.overflowY + 8
	}
	return t
}

// inFlight returns the step function of spans in flight, its peak and when
// it was first reached. Spans count over [start, end).
func inFlight(ss []checker.Span) ([]flightStep, int, float64) {
	type event struct {
		at    float64
		delta int
	}
	ev := make([]event, 0, 2*len(ss))
	for _, s := range ss {
		ev = append(ev, event{s.StartMS, +1}, event{s.EndMS, -1})
	}
	slices.SortFunc(ev, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	var steps []flightStep
	n, peak, peakAt := 0, 0, ss[0].StartMS
	for i := 0; i < len(ev); {
		at := ev[i].at
		for ; i < len(ev) && ev[i].at == at; i++ {
			n += ev[i].delta
		}
		if len(steps) > 0 && steps[len(steps)-1].Count == n {
			continue
		}
		steps = append(steps, flightStep{at, n})
		if n > peak {
			peak, peakAt = n, at
		}
	}
	return steps, peak, peakAt
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || !finite(raw) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

func (t *timeline) x(ms float64) float64 {
	return t.plotL + (ms-t.t0)/(t.t1-t.t0)*(t.plotR-t.plotL)
}

func (t *timeline) svg(b *strings.Builder) {
	fmt.Fprintf(b, `<svg class="tl" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s">`,
		num(t.width), num(t.h), num(t.width), num(t.h), esc(t.summary()))
	b.WriteString(`<title>` + esc(cmp.Or(t.title, "Timeline")) + `</title>`)
	b.WriteString(`<desc>` + esc(t.summary()) + `</desc>`)
	b.WriteString(`<style>` + timelineStyle + `</style>`)
	if t.title != "" {
		fmt.Fprintf(b, `<text class="tl-title" x="8" y="%s">%s</text>`, num(t.titleY), esc(t.title))
	}

	// Grid and time axis.
	for i := range t.ticks + 1 {
		v := t.t0 + float64(i)*t.step
		x := num(t.x(v))
		fmt.Fprintf(b, `<line class="tl-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, x, num(t.flightTop), x, num(t.axisY))
		fmt.Fprintf(b, `<line class="tl-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, x, num(t.axisY), x, num(t.axisY+5))
		fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="middle">%s</text>`, x, num(t.axisY+19), ms(v))
	}
	fmt.Fprintf(b, `<line class="tl-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(t.plotL), num(t.axisY), num(t.plotR), num(t.axisY))
	fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="end">time (ms)</text>`, num(t.plotL-12), num(t.axisY+19))

	t.flightChart(b)

	// One row per span.
	rows := t.spans[:min(len(t.spans), maxTimelineRows)]
	for i, s := range rows {
		y := t.rowsTop + float64(i)*t.pitch
		if i%t.labelEvery == 0 {
			fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="end" dominant-baseline="central">%s</text>`,
				num(t.plotL-12), num(y+t.pitch/2), esc(shorten(s.Label, 18)))
		}
		x0, x1 := t.x(s.StartMS), t.x(s.EndMS)
		fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" rx="2"><title>%s</title></rect>`,
			outcomeClass(s.Outcome), num(x0), num(y+(t.pitch-t.barH)/2), num(max(x1-x0, 2)), num(t.barH), esc(spanText(s)))
	}

	t.legend(b)
	if len(t.spans) > maxTimelineRows {
		fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s">%d more not drawn; the in-flight chart counts all %d.</text>`,
			num(t.plotL), num(t.overflowY), len(t.spans)-maxTimelineRows, len(t.spans))
	}
	b.WriteString(`</svg>`)
}

// flightChart draws the step chart of spans in flight and labels its peak.
// Its scale runs up to the number of spans, the most that could be in
// flight, not to the peak: a serial run then stays a thin strip and a fully
// concurrent one fills the chart, instead of both filling it.
func (t *timeline) flightChart(b *strings.Builder) {
	top, bottom := t.flightTop, t.flightBottom
	scale := (bottom - top) / float64(len(t.spans))
	y := func(n int) float64 { return bottom - float64(n)*scale }
	fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="end" dominant-baseline="central">in flight</text>`,
		num(t.plotL-34), num((top+bottom)/2))
	fmt.Fprintf(b, `<line class="tl-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(t.plotL), num(top), num(t.plotR), num(top))
	for _, n := range []int{0, len(t.spans)} {
		fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="end" dominant-baseline="central">%d</text>`,
			num(t.plotL-6), num(y(n)), n)
	}
	var d strings.Builder
	fmt.Fprintf(&d, "M%s %s", num(t.plotL), num(bottom))
	for _, s := range t.flight {
		fmt.Fprintf(&d, "H%sV%s", num(t.x(s.At)), num(y(s.Count)))
	}
	fmt.Fprintf(&d, "H%sZ", num(t.plotR))
	fmt.Fprintf(b, `<path class="tl-flight" d="%s"/>`, d.String())
	fmt.Fprintf(b, `<line class="tl-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(t.plotL), num(bottom), num(t.plotR), num(bottom))

	// The label sits just above the peak level, where nothing is drawn.
	px, anchor := t.x(t.peakAt)+4, "start"
	if px > t.plotR-90 {
		px, anchor = t.plotR, "end"
	}
	fmt.Fprintf(b, `<text class="tl-peak" x="%s" y="%s" text-anchor="%s">peak %d</text>`, num(px), num(y(t.peak)-5), anchor, t.peak)
}

// legend writes one swatch per outcome present, and the wall time in the
// label column.
func (t *timeline) legend(b *strings.Builder) {
	for _, it := range t.legendItems {
		fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="14" height="14" rx="2"/>`, outcomeClass(it.outcome), num(it.x-19), num(it.y-11))
		fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s">%s</text>`, num(it.x), num(it.y), esc(it.label))
	}
	fmt.Fprintf(b, `<text class="tl-small" x="%s" y="%s" text-anchor="end">total %s</text>`, num(t.plotL-12), num(t.legendY), esc(duration(t.last-t.first)))
}

// summary is the chart in one sentence.
func (t *timeline) summary() string {
	var b strings.Builder
	if t.title != "" {
		b.WriteString(t.title + ": ")
	}
	fmt.Fprintf(&b, "%d %s; peak %d in flight at once", len(t.spans), plural(len(t.spans), "request", "requests"), t.peak)
	fmt.Fprintf(&b, "; total %s, from %s to %s ms", duration(t.last-t.first), ms(t.first), ms(t.last))
	var counts []string
	for _, c := range t.counts {
		counts = append(counts, fmt.Sprintf("%d %s", c.n, outcomeName(c.outcome)))
	}
	b.WriteString("; " + strings.Join(counts, ", ") + ".")
	return b.String()
}

// text writes the visually hidden text alternative: the summary and a
// table of the drawn spans.
func (t *timeline) text(b *strings.Builder, invalid int) {
	b.WriteString(`<div class="tl-sr">`)
	b.WriteString(`<p>` + esc(t.summary()))
	if invalid > 0 {
		fmt.Fprintf(b, " %d %s with invalid times left out.", invalid, plural(invalid, "span", "spans"))
	}
	b.WriteString(`</p><table><thead><tr><th scope="col">Request</th><th scope="col">Start (ms)</th><th scope="col">End (ms)</th>` +
		`<th scope="col">Duration (ms)</th><th scope="col">Outcome</th></tr></thead><tbody>`)
	rows := t.spans[:min(len(t.spans), maxTimelineRows)]
	for _, s := range rows {
		fmt.Fprintf(b, `<tr><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
			esc(s.Label), ms(s.StartMS), ms(s.EndMS), ms(s.EndMS-s.StartMS), esc(outcomeName(normOutcome(s.Outcome))))
	}
	b.WriteString(`</tbody></table>`)
	if len(t.spans) > maxTimelineRows {
		fmt.Fprintf(b, `<p>%d more not listed.</p>`, len(t.spans)-maxTimelineRows)
	}
	b.WriteString(`</div>`)
}

// normOutcome maps an outcome to one of outcomeOrder.
func normOutcome(o string) string {
	if slices.Contains(outcomeOrder, o) {
		return o
	}
	return ""
}

func outcomeName(o string) string {
	return cmp.Or(normOutcome(o), "other")
}

func outcomeClass(o string) string {
	return "tl-" + outcomeName(o)
}

func spanText(s checker.Span) string {
	return fmt.Sprintf("%s: %s to %s ms (%s ms), %s", s.Label, ms(s.StartMS), ms(s.EndMS), ms(s.EndMS-s.StartMS), outcomeName(s.Outcome))
}

// ms formats milliseconds with no more precision than a reader needs.
func ms(v float64) string {
	prec := 0
	switch a := math.Abs(v); {
	case a < 10:
		prec = 2
	case a < 100:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec > 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// duration formats milliseconds as "850 ms" or "1.02 s".
func duration(v float64) string {
	if v < 1000 {
		return ms(v) + " ms"
	}
	return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
}

// num formats an SVG coordinate.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shorten cuts s to at most n characters, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// esc escapes s for HTML text and attribute values, after replacing invalid
// UTF-8 and dropping control characters, which XML does not allow.
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return html.EscapeString(s)
}

func finite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// plausible reports whether v is a time a check can have measured: finite
// and within a day of the check's start, so the axis stays computable.
func plausible(v float64) bool {
	return finite(v) && math.Abs(v) <= maxSpanMS
}
