package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: event streams,
// emulators, sockets, recording look-ups and browsers all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
