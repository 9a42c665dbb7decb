package rest_test

import (
	"os"
	"testing"

	"github.com/pbxkit/pbxkit/internal/benchserver"
)

// TestMain lets the request benchmarks run their server in a child process
// (see benchserver).
func TestMain(m *testing.M) {
	benchserver.Main()
	os.Exit(m.Run())
}
