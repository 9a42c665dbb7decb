package natsjs_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every test.
const testTimeout = 30 * time.Second

// startNATS runs a server of the test's own, with file storage in the
// test's temporary directory.
func startNATS(t testing.TB) *natstest.Server {
	t.Helper()
	srv, err := natstest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// connect is a replica's connection, with the options the package's doc
// recommends, closed when the test ends.
func connect(t testing.TB, srv *natstest.Server) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// testCtx is the test's context, bounded in time.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitConnected waits for js's connection to be back after a restart.
func waitConnected(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	require.Eventually(t, js.Conn().IsConnected, 10*time.Second, 10*time.Millisecond)
}
