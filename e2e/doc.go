// Package e2e holds the tutor's real-browser tests. They live in their own
// module so that chromedp never enters the tutor's own go.mod.
//
// They drive Debian's Chromium (package chromium) headless. Where no
// Chromium is found they skip, unless TUTOR_E2E_REQUIRED=1 (set by .ci/run,
// which installs it) turns the skip into a failure. Set
// TUTOR_E2E_SCREENSHOTS=DIR to keep screenshots of the pages.
package e2e
