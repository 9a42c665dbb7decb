package newtel_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/benchserver"
)

// TestMain checks that no test leaves a goroutine behind: the emulators, the
// stubs and the webhook servers all stop. It also lets the request
// benchmarks run their server in a child process (see benchserver).
func TestMain(m *testing.M) {
	benchserver.Main()
	goleak.VerifyTestMain(m)
}
