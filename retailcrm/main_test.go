package retailcrm_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/benchserver"
)

// TestMain checks that no test leaves a goroutine behind: the stub servers
// and the callback servers all stop. It also lets the upload benchmark run
// its server in a child process (see benchserver).
func TestMain(m *testing.M) {
	benchserver.Main()
	goleak.VerifyTestMain(m)
}
