package newtel_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the emulators, the
// stubs and the webhook servers all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
