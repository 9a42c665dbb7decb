package phonet_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/benchserver"
)

// TestMain checks that no test leaves a goroutine behind: sockets, hubs,
// emulators and webhook servers all stop. It also lets the request
// benchmarks run their server in a child process (see benchserver).
func TestMain(m *testing.M) {
	benchserver.Main()
	if os.Getenv(idleServerEnv) != "" {
		idleServerMain()
		return
	}
	goleak.VerifyTestMain(m)
}
