package phonet_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: sockets, hubs,
// emulators and webhook servers all stop.
func TestMain(m *testing.M) {
	if os.Getenv(idleServerEnv) != "" {
		idleServerMain()
		return
	}
	goleak.VerifyTestMain(m)
}
