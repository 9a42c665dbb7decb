package phonet_test

import (
	"context"
	"net/http"
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

// hubOptions keep a big Hub light on two cores: rare pings, quick backoff
// (newEmulator's client dials at a high rate).
var hubOptions = []phonet.StreamOption{
	phonet.WithPing(10*time.Second, 5*time.Second),
	phonet.WithBackoff(10*time.Millisecond, 200*time.Millisecond),
}

func TestHubWatchesAThousandManagers(t *testing.T) {
	t.Parallel()
	const n = 1000
	srv, c := newEmulator(t, phonet.WithDialRate(4000, 100))
	exts := manyUsers(srv, n)
	hub, err := c.Watch(t.Context(), append(exts, "", exts[0]), hubOptions...)
	require.NoError(t, err)
	defer hub.Close()
	assert.Len(t, hub.Subscribers(), n)
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

func TestHubReportsRefusedSubscribers(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001", "nobody"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	assert.Equal(t, []string{"001"}, hub.Subscribers())
	require.Contains(t, hub.Failed(), "nobody")
	assert.ErrorIs(t, hub.Failed()["nobody"], voip.ErrForbidden)
	assert.NotNil(t, hub.Stream("001"))
	stopped := nextNotice(t, hub.Notices(), voip.NoticeStopped)
	assert.Equal(t, "nobody", stopped.Subscriber)
	assert.ErrorIs(t, stopped.Err, voip.ErrForbidden)

	_, err = c.Watch(t.Context(), []string{"nobody"}, fastSocket...)
	assert.ErrorIs(t, err, voip.ErrForbidden, "every subscriber refused")
	empty, err := c.Watch(t.Context(), nil)
	require.NoError(t, err, "an empty Hub, to be filled with Add")
	assert.Empty(t, empty.Subscribers())
	require.NoError(t, empty.Close())
}

// TestHubRetriesATransientFirstFailure: one 503 on a manager's first socket
// does not lose that manager: the Hub keeps trying, says so, and the
// manager's calls then arrive.
func TestHubRetriesATransientFirstFailure(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	srv.FailSocket("002", http.StatusServiceUnavailable)
	hub, err := c.Watch(t.Context(), []string{"001", "002"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	assert.Equal(t, []string{"001", "002"}, hub.Subscribers())
	assert.Empty(t, hub.Failed())

	var failed, regained bool
	for !regained {
		n := nextNoticeOf(t, hub.Notices(), "002")
		switch n.Kind {
		case voip.NoticeDisconnected:
			assert.ErrorIs(t, n.Err, voip.ErrServer)
			failed = true
		case voip.NoticeConnected:
			assert.True(t, failed, "the failure is reported before the connect")
			assert.True(t, n.Gap, "calls of the outage may have been missed")
			regained = true
		}
	}
	awaitSockets(t, srv, 2)
	id := srv.Incoming("002", "+380931112233")
	ev := nextEvent(t, hub.Events())
	assert.Equal(t, "002", ev.Subscriber)
	assert.Equal(t, id, ev.UUID)
}

// TestHubAddAndRemove: managers join and leave a running Hub.
func TestHubAddAndRemove(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()

	require.NoError(t, hub.Add(t.Context(), "002"))
	require.NoError(t, hub.Add(t.Context(), " 002 "), "adding again does nothing")
	assert.Equal(t, []string{"001", "002"}, hub.Subscribers())
	awaitSockets(t, srv, 2)
	srv.Incoming("002", "+380931112233")
	assert.Equal(t, "002", nextEvent(t, hub.Events()).Subscriber)

	err = hub.Add(t.Context(), "nobody")
	assert.ErrorIs(t, err, voip.ErrForbidden)
	assert.NotContains(t, hub.Subscribers(), "nobody")
	assert.ErrorIs(t, hub.Add(t.Context(), " "), voip.ErrBadRequest)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, hub.Add(ctx, "003"), context.Canceled)
	assert.NotContains(t, hub.Subscribers(), "003")

	hub.Remove("001")
	hub.Remove("001")
	assert.Equal(t, []string{"002"}, hub.Subscribers())
	assert.Nil(t, hub.Stream("001"))
	awaitSocketsAtMost(t, srv, 1)
	srv.Incoming("001", "+380931112233") // nobody watches 001 any more
	srv.Incoming("002", "+380931112244")
	assert.Equal(t, "002", nextEvent(t, hub.Events()).Subscriber)

	require.NoError(t, hub.Close())
	assert.ErrorIs(t, hub.Add(t.Context(), "003"), phonet.ErrClosed)
}

// TestHubIsASource: the Hub's call events of every manager as voip.Event,
// its notices naming the subscriber, and Err.
func TestHubIsASource(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001", "002"}, fastSocket...)
	require.NoError(t, err)
	var src voip.Source = hub.Source()
	awaitSockets(t, srv, 2)
	srv.Pause("001", true) // not a call: left out
	id := srv.Incoming("002", "+380931112233")
	select {
	case ev := <-src.Events():
		assert.Equal(t, voip.EventStart, ev.Kind)
		assert.Equal(t, phonet.NormalizeUUID(id), ev.CallID)
		assert.Equal(t, "002", ev.Ext)
		assert.Equal(t, "+380931112233", ev.Client)
	case <-time.After(wait):
		t.Fatal("no event")
	}
	n := nextNotice(t, src.Notices(), voip.NoticeConnected)
	assert.NotEmpty(t, n.Subscriber)
	require.NoError(t, src.Close())
	for range src.Events() {
	}
	assert.NoError(t, src.Err())
}

// TestHubSourceTakesTheQueuedEvents: call events queued on the Hub's
// Events before Source is called come from the Source, then the later ones.
func TestHubSourceTakesTheQueuedEvents(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001"}, fastSocket...)
	require.NoError(t, err)
	awaitSockets(t, srv, 1)
	id := srv.Incoming("001", "+380931112233")
	require.Eventually(t, func() bool { return len(hub.Events()) == 1 }, wait, time.Millisecond)
	src := hub.Source()
	assert.Same(t, src, hub.Source(), "one Source per Hub")
	require.True(t, srv.Answer(id))
	for _, kind := range []voip.EventKind{voip.EventStart, voip.EventAnswer} {
		select {
		case ev := <-src.Events():
			assert.Equal(t, kind, ev.Kind)
			assert.Equal(t, phonet.NormalizeUUID(id), ev.CallID)
		case <-time.After(wait):
			t.Fatalf("no %v event", kind)
		}
	}
	require.NoError(t, src.Close())
	_, ok := <-src.Events()
	assert.False(t, ok)
	assert.Empty(t, hub.Events(), "nothing left behind")
}

// TestHubStopsWhenEverySocketIsRefused: a revoked apiKey refuses every
// socket on its reconnect; the Hub then stops and says why.
func TestHubStopsWhenEverySocketIsRefused(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hub, err := c.Watch(t.Context(), []string{"001", "002"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	awaitSockets(t, srv, 2)
	for _, sub := range []string{"001", "002"} {
		srv.FailSocket(sub, http.StatusForbidden)
	}
	srv.DropSockets()
	for range hub.Events() {
	}
	assert.ErrorIs(t, hub.Err(), voip.ErrForbidden)
	assert.Len(t, hub.Failed(), 2)
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

// nextNoticeOf returns the next notice about subscriber.
func nextNoticeOf(t *testing.T, ch <-chan voip.Notice, subscriber string) voip.Notice {
	t.Helper()
	return nextNoticeWhere(t, ch, "about "+subscriber, func(n voip.Notice) bool { return n.Subscriber == subscriber })
}

// awaitSocketsAtMost waits until the emulator holds at most n sockets.
func awaitSocketsAtMost(t *testing.T, srv *phonettest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for srv.Sockets() > n {
		require.True(t, time.Now().Before(deadline), "%d sockets, want at most %d", srv.Sockets(), n)
		time.Sleep(time.Millisecond)
	}
}
