package webitel_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/benchserver"
)

// TestMain checks that no test leaves a goroutine behind. It also lets the
// history benchmark run its server in a child process (see benchserver).
func TestMain(m *testing.M) {
	benchserver.Main()
	goleak.VerifyTestMain(m)
}
