package phonet_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

func subscribe(t *testing.T, c *phonet.Client, sub string, opts ...phonet.StreamOption) *phonet.Stream {
	t.Helper()
	st, err := c.Subscribe(t.Context(), sub, append(append([]phonet.StreamOption{}, fastSocket...), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// awaitSockets waits for the emulator to register n sockets.
func awaitSockets(t *testing.T, srv *phonettest.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	require.NoError(t, srv.AwaitSockets(ctx, n))
}

func nextEvent(t *testing.T, ch <-chan *phonet.Event) *phonet.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "events closed")
		return ev
	case <-time.After(wait):
		t.Fatal("no event")
	}
	return nil
}

func nextNotice(t *testing.T, ch <-chan voip.Notice, kind voip.NoticeKind) voip.Notice {
	t.Helper()
	return nextNoticeWhere(t, ch, kind.String(), func(n voip.Notice) bool { return n.Kind == kind })
}

// nextNoticeWhere returns the next notice that match accepts; what names
// it for the failure message.
func nextNoticeWhere(t *testing.T, ch <-chan voip.Notice, what string, match func(voip.Notice) bool) voip.Notice {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case n, ok := <-ch:
			require.True(t, ok, "notices closed")
			if match(n) {
				return n
			}
		case <-deadline:
			t.Fatalf("no notice %s", what)
		}
	}
}

func TestStreamDeliversACall(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "001")
	assert.Equal(t, "001", st.Subscriber())
	assert.False(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	awaitSockets(t, srv, 1)

	id := srv.Incoming("001", "+380931112233")
	ev := nextEvent(t, st.Events())
	assert.Equal(t, phonet.EventDial, ev.Type)
	assert.Equal(t, id, ev.UUID)
	assert.Equal(t, "001", ev.Subscriber)
	srv.Answer(id)
	assert.Equal(t, phonet.EventBridge, nextEvent(t, st.Events()).Type)
	srv.Pause("001", true)
	p, ok := nextEvent(t, st.Events()).Presence()
	require.True(t, ok)
	assert.True(t, p.Away)
	srv.Push("001", []byte(`{"event":"queue.update","size":3}`))
	assert.Equal(t, phonet.EventType("queue.update"), nextEvent(t, st.Events()).Type)
	srv.Push("001", []byte(`not json`)) // skipped, never fatal
	srv.Hangup(id)
	ev = nextEvent(t, st.Events())
	assert.Equal(t, phonet.EventHangup, ev.Type)
	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.DispositionAnswered, v.Disposition)
}

func TestStreamAsVoipSource(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "ivan@demo.phonet.com.ua")
	var src voip.Source = st.Source()
	awaitSockets(t, srv, 1)
	srv.Pause("001", false) // not a call: left out
	id := srv.Incoming("001", "380931112233")
	select {
	case ev := <-src.Events():
		assert.Equal(t, voip.EventStart, ev.Kind)
		assert.Equal(t, id, ev.CallID)
		assert.Equal(t, "+380931112233", ev.Client)
		assert.Equal(t, voip.DirectionIn, ev.Direction)
	case <-time.After(wait):
		t.Fatal("no event")
	}
	require.NoError(t, src.Close())
	_, ok := <-src.Events()
	assert.False(t, ok)
	assert.NoError(t, src.Err())
}

// TestStreamSourceTakesTheQueuedEvents: call events queued on Events before
// Source is called come first from the Source, in order, then the later
// ones; nothing is left behind on the stream's own channel.
func TestStreamSourceTakesTheQueuedEvents(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "ivan@demo.phonet.com.ua")
	awaitSockets(t, srv, 1)
	id := srv.Incoming("001", "380931112233")
	srv.Pause("001", true) // not a call: left out
	require.True(t, srv.Answer(id))
	require.Eventually(t, func() bool { return len(st.Events()) == 3 }, wait, time.Millisecond, "queued before Source")
	src := st.Source()
	assert.Same(t, src, st.Source(), "one Source per stream")
	require.True(t, srv.Hangup(id))
	for _, kind := range []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventEnd} {
		select {
		case ev := <-src.Events():
			assert.Equal(t, kind, ev.Kind)
			assert.Equal(t, id, ev.CallID)
		case <-time.After(wait):
			t.Fatalf("no %v event", kind)
		}
	}
	require.NoError(t, src.Close())
	_, ok := <-src.Events()
	assert.False(t, ok)
}

// TestStreamSourceAfterTheStreamStopped: a Source of a stopped stream has
// the events left on it, then closes.
func TestStreamSourceAfterTheStreamStopped(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "ivan@demo.phonet.com.ua")
	awaitSockets(t, srv, 1)
	id := srv.Incoming("001", "380931112233")
	require.Eventually(t, func() bool { return len(st.Events()) == 1 }, wait, time.Millisecond)
	require.NoError(t, st.Close())
	src := st.Source()
	ev, ok := <-src.Events()
	require.True(t, ok)
	assert.Equal(t, id, ev.CallID)
	_, ok = <-src.Events()
	assert.False(t, ok)
	require.NoError(t, src.Close())
}

func TestStreamAuthFailure(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	logs := &testutil.Logs{}
	bad, err := phonet.New(srv.Domain, "wrong-key-S3CRET-123", phonet.WithBaseURL(srv.BaseURL()), phonet.WithLogger(logs.Logger()))
	require.NoError(t, err)
	_, err = bad.Subscribe(t.Context(), "001", fastSocket...)
	require.ErrorIs(t, err, voip.ErrForbidden)
	_, err = c.Subscribe(t.Context(), "no-such-user", fastSocket...)
	require.ErrorIs(t, err, voip.ErrForbidden)
	_, err = c.Subscribe(t.Context(), " ", fastSocket...)
	require.Error(t, err)
	testutil.NoSecret(t, "wrong-key-S3CRET-123", err.Error(), logs.String())
}

func TestStreamDropGivesAGapNotice(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "001")
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	awaitSockets(t, srv, 1)
	srv.DropSockets()
	nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	awaitSockets(t, srv, 1)
	// Reconcile: the calls of the gap are in the active list.
	srv.Incoming("002", "+380931112233")
	active, err := c.ActiveCalls(t.Context())
	require.NoError(t, err)
	assert.Len(t, active, 1)
}

func TestStreamHalfOpenIsNoticed(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "001", phonet.WithPing(100*time.Millisecond, 100*time.Millisecond))
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	awaitSockets(t, srv, 1)
	srv.Silence(true)
	n := nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.Contains(t, n.Err.Error(), "pong")
	srv.Silence(false)
	// A reconnect may have begun while the server was silent: its
	// handshake answer was lost, and it would wait out its dial timeout
	// (15 s). Whatever the server holds is dropped, until a connection is
	// made afresh: a handshake still on its way in when one drop ran is
	// caught by the next.
	deadline := time.After(wait)
	for {
		srv.CloseClientConnections()
		srv.DropSockets()
		select {
		case n, ok := <-st.Notices():
			require.True(t, ok, "notices closed")
			if n.Kind == voip.NoticeConnected {
				assert.True(t, n.Gap)
				return
			}
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notice connected")
		}
	}
}

func TestStreamClick2Call(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "002", phonet.WithCallTimeout(300*time.Millisecond))
	require.NoError(t, st.Call(t.Context(), "380991234567"))
	placed := srv.Calls()
	require.Len(t, placed, 1)
	assert.Equal(t, "002", placed[0].Ext)
	assert.Equal(t, "380991234567", placed[0].To)
	assert.True(t, placed[0].Socket)
	// The call rings the operator first: its dial comes as an event.
	assert.Equal(t, phonet.DirectionOut, nextEvent(t, st.Events()).Direction)

	srv.FailClick2Call("Номер заблокирован")
	err := st.Call(t.Context(), "380991234567")
	require.ErrorIs(t, err, voip.ErrBadRequest)
	assert.Contains(t, err.Error(), "Номер заблокирован")
	srv.FailClick2Call("")

	srv.MuteClick2Call(true)
	err = st.Call(t.Context(), "380991234567")
	require.ErrorIs(t, err, voip.ErrAmbiguous)
	srv.MuteClick2Call(false)

	assert.ErrorIs(t, st.Call(t.Context(), ""), voip.ErrBadRequest)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, st.Call(ctx, "380991234567"), context.Canceled)
	require.NoError(t, st.Close())
	assert.ErrorIs(t, st.Call(t.Context(), "380991234567"), phonet.ErrClosed)
}

func TestStreamLateReplyIsNotTakenForTheNextCall(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "003", phonet.WithCallTimeout(300*time.Millisecond))
	srv.MuteClick2Call(true)
	require.ErrorIs(t, st.Call(t.Context(), "380991234567"), voip.ErrAmbiguous)
	srv.MuteClick2Call(false)
	awaitSockets(t, srv, 1)
	// The late reply to the first call arrives now: it is an event.
	srv.Push("003", []byte(`{"event":"error","message":"late"}`))
	ev := nextEvent(t, st.Events())
	assert.Equal(t, "late", ev.Message)
	require.NoError(t, st.Call(t.Context(), "380991234567"))
}

// TestStreamLostReplyDoesNotPoisonTheSocket: a click2call whose reply never
// comes is ambiguous, and the calls after it are answered as usual: the
// lost reply does not shift the matching of later ones.
func TestStreamLostReplyDoesNotPoisonTheSocket(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "003", phonet.WithCallTimeout(time.Second))
	srv.MuteClick2Call(true)
	require.ErrorIs(t, st.Call(t.Context(), "380991234567"), voip.ErrAmbiguous)
	srv.MuteClick2Call(false)

	require.NoError(t, st.Call(t.Context(), "380991234567"))
	srv.FailClick2Call("Номер заблокирован")
	err := st.Call(t.Context(), "380991234567")
	require.ErrorIs(t, err, voip.ErrBadRequest)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	srv.FailClick2Call("")
	require.NoError(t, st.Call(t.Context(), "380991234567"))
	assert.Len(t, srv.Calls(), 2, "the two calls answered with success")
}

// TestStreamSlowReplyGoesToItsOwnCall: a reply that comes after its call
// gave up is an event, and the next call, held until then, gets its own.
func TestStreamSlowReplyGoesToItsOwnCall(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	// The reply comes after its call's timeout, within the next one.
	st := subscribe(t, c, "003", phonet.WithCallTimeout(time.Second))
	srv.DelayClick2Call(1500 * time.Millisecond)
	srv.FailClick2Call("first call refused, late")
	require.ErrorIs(t, st.Call(t.Context(), "380991234567"), voip.ErrAmbiguous)
	srv.DelayClick2Call(0)
	srv.FailClick2Call("")

	require.NoError(t, st.Call(t.Context(), "380991234567"), "the late error is not this call's")
	late := nextEvent(t, st.Events())
	assert.Equal(t, phonet.EventError, late.Type)
	assert.Equal(t, "first call refused, late", late.Message)
	assert.Len(t, srv.Calls(), 1)
}

// TestStreamCallNormalisesTheNumber: to is sent as the seed article writes
// it, international digits without "+"; garbage is never sent.
func TestStreamCallNormalisesTheNumber(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "002")
	require.NoError(t, st.Call(t.Context(), "+38 (099) 123-45-67"))
	require.NoError(t, st.Call(t.Context(), "0991234567"))
	require.NoError(t, st.Call(t.Context(), "003"))
	var to []string
	for _, p := range srv.Calls() {
		to = append(to, p.To)
	}
	assert.Equal(t, []string{"380991234567", "380991234567", "003"}, to)

	for _, bad := range []string{"", "not a phone", "+380 abc"} {
		err := st.Call(t.Context(), bad)
		assert.ErrorIs(t, err, voip.ErrBadRequest, bad)
		assert.ErrorIs(t, err, voip.ErrInvalidPhone, bad)
		var argErr *voip.ArgError
		assert.ErrorAs(t, err, &argErr, bad)
	}
	assert.Len(t, srv.Calls(), 3, "garbage is never sent")
}

func TestStreamStopsWithItsContext(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx, cancel := context.WithCancel(t.Context())
	st, err := c.Subscribe(ctx, "001", fastSocket...)
	require.NoError(t, err)
	cancel()
	for range st.Events() {
	}
	assert.NoError(t, st.Err())
	require.NoError(t, st.Close())
}

func TestStreamSlowConsumerDropsTheOldest(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	st := subscribe(t, c, "001", phonet.WithBuffer(2))
	awaitSockets(t, srv, 1)
	for range 6 {
		srv.Pause("001", true)
	}
	srv.Pause("001", false) // the newest is kept
	dropped := nextNotice(t, st.Notices(), voip.NoticeDropped)
	assert.True(t, dropped.Gap)
	deadline := time.After(wait)
	for st.Dropped() < 5 {
		select {
		case <-deadline:
			t.Fatalf("dropped %d", st.Dropped())
		case <-time.After(time.Millisecond):
		}
	}
	nextEvent(t, st.Events())
	p, ok := nextEvent(t, st.Events()).Presence()
	require.True(t, ok)
	assert.False(t, p.Away)
}

// TestCancelledContextSameShapeEverywhere: a context that has ended gives
// ctx.Err() itself, from REST calls and from the sockets alike.
func TestCancelledContextSameShapeEverywhere(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Users(ctx)
	assert.Equal(t, context.Canceled, err, "REST")
	_, err = c.Subscribe(ctx, "001", fastSocket...)
	assert.Equal(t, context.Canceled, err, "Subscribe")
	_, err = c.Watch(ctx, []string{"001"}, fastSocket...)
	assert.Equal(t, context.Canceled, err, "Watch")
	assert.Zero(t, srv.Sockets())
}

// TestEverySocketOfAClientSharesOneDialPacer: a client whose pacer gives
// two turns and then one an hour connects one Subscribe and one Hub socket,
// and the next socket, of either kind, waits for the third turn: nothing
// is dialled, and its context ends the wait.
func TestEverySocketOfAClientSharesOneDialPacer(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t, phonet.WithDialRate(1.0/3600, 2))
	st, err := c.Subscribe(t.Context(), "001", fastSocket...)
	require.NoError(t, err)
	defer st.Close()
	hub, err := c.Watch(t.Context(), []string{"002"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	awaitSockets(t, srv, 2)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Subscribe(ctx, "003", fastSocket...)
		done <- err
	}()
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond) // the turn is an hour away
	defer stop()
	require.ErrorIs(t, hub.Add(short, "911"), context.DeadlineExceeded, "the Hub's socket waited its turn")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, 2, srv.Sockets(), "the waiting sockets dialled nothing")
}

func TestWithDialRateValidates(t *testing.T) {
	t.Parallel()
	for _, o := range []phonet.Option{phonet.WithDialRate(0, 1), phonet.WithDialRate(1, 0), phonet.WithDialRate(-1, 1)} {
		_, err := phonet.New("demo.phonet.com.ua", apiKey, o)
		require.Error(t, err)
	}
}
