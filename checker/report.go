package checker

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"slices"
)

// This file reads the harness report: the records the hidden checks write
// (through lessons/harness) to the file named by TUTOR_REPORT. Each check
// runs in its own test process with its own report file. The report is the
// one source of a check's title, message, measures and timeline, and, with
// the process's exit, of whether it passed: what the learner's code prints
// cannot reach it.
//
// The known gap: the learner's code runs in the same process as the harness
// and can read TUTOR_REPORT from its environment and append a forged record
// before exiting. That takes a deliberate forgery written against the
// harness's record format; printing, exiting early or crashing cannot pass
// a check. Closing it needs a secret the learner's code cannot read, which
// no in-process mechanism provides.

// reportEnv names the environment variable the harness reads the report
// file's path from (harness.ReportEnv).
const reportEnv = "TUTOR_REPORT"

// recordCap bounds one record's line; reportCap bounds the records read.
const (
	recordCap = 4 << 20
	reportCap = 64
)

// record mirrors harness.Record, the JSON contract between the hidden checks
// and the checker (the harness cannot import this package: it is compiled
// inside the learner's module). TestRecordContract keeps the two in step.
type record struct {
	Check      string    `json:"check"`
	Title      string    `json:"title"`
	Passed     bool      `json:"passed"`
	Message    string    `json:"message"`
	Measures   []Measure `json:"measures"`
	Remeasured bool      `json:"remeasured"`
	Timeline   []struct {
		Label   string `json:"label"`
		Start   int64  `json:"start_ns"`
		End     int64  `json:"end_ns"`
		Outcome string `json:"outcome"`
	} `json:"timeline"`
}

// readReport reads the records in path. A missing file is no records: the
// check never reached its end.
func readReport(path string) ([]record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), recordCap)
	var out []record
	for sc.Scan() && len(out) < reportCap {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// recordOf returns the last record of the check named name ("Concurrent"),
// or nil.
func recordOf(recs []record, name string) *record {
	for k := len(recs) - 1; k >= 0; k-- {
		if recs[k].Check == name {
			return &recs[k]
		}
	}
	return nil
}

// apply copies a record's title, message, measures and timeline to c.
func (r *record) apply(c *Check) {
	c.Title = r.Title
	c.Message = r.Message
	c.Measures = r.Measures
	c.Remeasured = r.Remeasured
	for _, s := range r.Timeline {
		c.Timeline = append(c.Timeline, Span{Label: s.Label, StartMS: float64(s.Start) / 1e6, EndMS: float64(s.End) / 1e6, Outcome: s.Outcome})
	}
}

// pickTimeline sets the result's timeline to the most telling check's: the
// first failing check that recorded spans, else the first that did.
func pickTimeline(res *Result) {
	pick := slices.IndexFunc(res.Checks, func(c Check) bool { return len(c.Timeline) > 0 && !c.Passed })
	if pick < 0 {
		pick = slices.IndexFunc(res.Checks, func(c Check) bool { return len(c.Timeline) > 0 })
	}
	if pick >= 0 {
		res.Timeline = res.Checks[pick].Timeline
		res.TimelineCheck = res.Checks[pick].Name
	}
}
