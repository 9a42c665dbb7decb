package natstest_test

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

// TestRestartKeepsTheStorage: a key written before a stop is read after
// the restart, by a client that reconnected on its own.
func TestRestartKeepsTheStorage(t *testing.T) {
	srv, err := natstest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b", Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = kv.Create(ctx, "k", []byte("v"))
	require.NoError(t, err)

	srv.Stop()
	srv.Stop() // twice: nothing to do
	require.NoError(t, srv.Restart())
	require.Error(t, srv.Restart(), "already running")
	require.Eventually(t, nc.IsConnected, 10*time.Second, 10*time.Millisecond)
	e, err := kv.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(e.Value()))
}
