package harness

import (
	"os"
	"runtime/debug"
	"strconv"
)

// GCEnv names the environment variable through which the tutor hands the
// checks the garbage collector setting it took away from the build. The
// tutor runs the go command with GOGC=off, because the compiler and the
// linker finish sooner without collecting (about 10% of a save's build on
// a 2-core machine) and live only for a moment; the test binary inherits
// that environment, so the collector is set back here, before any of the
// learner's code runs. The value is the learner's own GOGC ("" for the
// default, 100).
const GCEnv = "TUTOR_GOGC"

// The harness is imported by every check, so its package initializes
// before the learner's package and before any check starts.
func init() { restoreGC(os.LookupEnv(GCEnv)) }

// restoreGC applies a GOGC value the way the runtime reads it.
func restoreGC(v string, set bool) {
	if !set {
		return // not run by the tutor
	}
	switch n, err := strconv.Atoi(v); {
	case v == "off":
		debug.SetGCPercent(-1)
	case err == nil:
		debug.SetGCPercent(n)
	default:
		debug.SetGCPercent(100)
	}
}
