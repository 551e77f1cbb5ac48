package watch

import "strings"

// probePrefix starts the name of the file the self-test creates. It starts
// with a dot so that isTemp drops it whatever Match says.
const probePrefix = ".tutor-watch-probe-"

// defaultMatch is the Match used when Options.Match is nil: Go source files
// that are not hidden. It is deliberately not limited to a lesson's listed
// files, because learners may add files of their own.
func defaultMatch(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasPrefix(name, ".")
}

// isTemp reports whether a base name belongs to an editor's or tool's
// temporary, swap or backup file. Such files never count, even under a
// permissive Match, because an editor's save creates and deletes them and
// they must not turn one save into several changes.
func isTemp(name string) bool {
	switch {
	case name == "":
		return true
	case strings.HasPrefix(name, "."):
		// vim swap (.x.go.swp), emacs lock (.#x.go), renameio and other
		// atomic-write temps (.x.go123), Kate (.x.go.kate-swp), our probe.
		return true
	case strings.HasPrefix(name, "#"):
		// emacs auto-save: #x.go#
		return true
	case strings.HasSuffix(name, "~"):
		// vim and emacs backups: x.go~
		return true
	case isVimSwap(name):
		return true
	case allDigits(name):
		// vim's "can I create a file here" test file: 4913, then 4913+123·k.
		return true
	case isSedTemp(name):
		return true
	case strings.Contains(name, "___jb_tmp___"), strings.Contains(name, "___jb_old___"):
		// JetBrains "safe write".
		return true
	case strings.Contains(name, ".vsctmp"), strings.HasSuffix(name, ".tmp"):
		return true
	}
	return false
}

// isVimSwap matches vim swap-file suffixes: .swp, then .swo, .swn, … down to
// .swa as more sessions open the file, and .swx, which vim uses to test
// whether a swap file can be created.
func isVimSwap(name string) bool {
	if len(name) < 4 || !strings.HasSuffix(name[:len(name)-1], ".sw") {
		return false
	}
	c := name[len(name)-1]
	return c >= 'a' && c <= 'p' || c == 'x'
}

func allDigits(name string) bool {
	for _, c := range name {
		if c < '0' || c > '9' {
			return false
		}
	}
	return name != ""
}

// isSedTemp matches the temp file GNU sed -i writes before renaming it over
// the original: "sed" followed by six random letters or digits.
func isSedTemp(name string) bool {
	if len(name) != 9 || !strings.HasPrefix(name, "sed") {
		return false
	}
	for _, c := range name[3:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
