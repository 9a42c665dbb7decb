package phonet_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// manyUsers gives the emulator n users with extensions 1000, 1001, …
func manyUsers(srv *phonettest.Server, n int) []string {
	users := make([]phonettest.User, n)
	exts := make([]string, n)
	for i := range users {
		exts[i] = strconv.Itoa(1000 + i)
		users[i] = phonettest.User{ID: i + 1, DisplayName: "Manager " + exts[i], Ext: exts[i], Email: "m" + exts[i] + "@demo.phonet.com.ua"}
	}
	srv.SetUsers(users)
	return exts
}

// hubOptions keep a big Hub light on two cores: rare pings, quick backoff.
var hubOptions = []phonet.StreamOption{
	phonet.WithPing(10*time.Second, 5*time.Second),
	phonet.WithBackoff(10*time.Millisecond, 200*time.Millisecond),
	phonet.WithDialRate(4000, 100),
}

func TestHubWatchesAThousandManagers(t *testing.T) {
	t.Parallel()
	const n = 1000
	srv, c := newEmulator(t)
	exts := manyUsers(srv, n)
	hub, err := c.Watch(t.Context(), append(exts, "", exts[0]), hubOptions...)
	require.NoError(t, err)
	defer hub.Close()
	assert.Equal(t, n, hub.Subscribers())
	assert.Empty(t, hub.Failed())
	awaitSockets(t, srv, n)

	connected := map[string]bool{}
	for len(connected) < n {
		select {
		case note := <-hub.Notices():
			require.Equal(t, voip.NoticeConnected, note.Kind)
			assert.False(t, note.Gap)
			connected[note.Subscriber] = true
		case <-time.After(wait):
			t.Fatalf("%d connected notices", len(connected))
		}
	}

	// One merged stream: events of every manager, each with its subscriber.
	for _, i := range []int{0, 499, 999} {
		id := srv.Incoming(exts[i], "+380931112233")
		ev := nextEvent(t, hub.Events())
		assert.Equal(t, exts[i], ev.Subscriber)
		assert.Equal(t, id, ev.UUID)
	}

	// A server restart: every socket comes back, paced by the shared dial
	// rate (4000/s after a burst of 100), with a gap.
	dropped := time.Now()
	srv.DropSockets()
	regained, lost := map[string]bool{}, map[string]bool{}
	for len(regained) < n {
		select {
		case note := <-hub.Notices():
			switch {
			case note.Kind == voip.NoticeDisconnected:
				lost[note.Subscriber] = true
			case note.Kind == voip.NoticeConnected && note.Gap:
				assert.True(t, lost[note.Subscriber], "a disconnect comes before the reconnect")
				regained[note.Subscriber] = true
			}
		case <-time.After(4 * wait):
			t.Fatalf("%d reconnected", len(regained))
		}
	}
	assert.GreaterOrEqual(t, time.Since(dropped), (n-100)*time.Second/4000, "no reconnect storm")
	awaitSockets(t, srv, n)
	require.NoError(t, hub.Call(t.Context(), exts[7], "380991234567"))
	assert.Error(t, hub.Call(t.Context(), "nobody", "380991234567"))
	require.NoError(t, hub.Close())
	for range hub.Events() {
	}
}

func TestHubReportsFailedSubscribers(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001", "nobody"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	assert.Equal(t, 1, hub.Subscribers())
	require.Contains(t, hub.Failed(), "nobody")
	assert.ErrorIs(t, hub.Failed()["nobody"], voip.ErrForbidden)
	assert.NotNil(t, hub.Stream("001"))

	_, err = c.Watch(t.Context(), []string{"nobody"}, fastSocket...)
	assert.ErrorIs(t, err, voip.ErrForbidden)
	_, err = c.Watch(t.Context(), nil)
	assert.Error(t, err)
	_ = srv
}

func TestHubSlowConsumerDropsAndSaysSo(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001"}, append(fastSocket, phonet.WithBuffer(2))...)
	require.NoError(t, err)
	defer hub.Close()
	awaitSockets(t, srv, 1)
	for range 5 {
		srv.Pause("001", true)
	}
	deadline := time.After(wait)
	for hub.Dropped() < 3 {
		select {
		case <-deadline:
			t.Fatalf("dropped %d", hub.Dropped())
		case <-time.After(time.Millisecond):
		}
	}
	var dropped bool
	for !dropped {
		select {
		case note := <-hub.Notices():
			dropped = note.Kind == voip.NoticeDropped && note.Gap
		case <-time.After(wait):
			t.Fatal("no dropped notice")
		}
	}
}

func TestHubStopsWithItsContext(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx, cancel := context.WithCancel(t.Context())
	hub, err := c.Watch(ctx, []string{"001", "002"}, fastSocket...)
	require.NoError(t, err)
	cancel()
	for range hub.Events() {
	}
	require.NoError(t, hub.Close())
}
