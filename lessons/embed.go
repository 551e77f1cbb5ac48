package lessons

import "embed"

// content holds the course as shipped: every lesson directory, the loop
// package and the harness package.
//
//go:embed *
var content embed.FS

// Embedded returns the course that ships inside the tutor binary.
func Embedded() embed.FS { return content }
