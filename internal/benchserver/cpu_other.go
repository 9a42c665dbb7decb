//go:build !unix

package benchserver

import "time"

// processCPU is not available here: CPU reports nothing.
func processCPU() (time.Duration, bool) { return 0, false }
