package webitel_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// TestSocketHelloBeforeTheReplyAndNULFrames: hello comes before the
// authentication reply and NUL keep-alives after every frame; the stream
// authenticates with seq ≥ 1, subscribes, sends the application ping at
// hello's interval, and delivers the events, never hello.
func TestSocketHelloBeforeTheReplyAndNULFrames(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) { e.pingInterval = 20 })
	st := subscribe(t, e.client())

	auth := e.requestsFor("authentication_challenge")
	require.Len(t, auth, 1)
	assert.GreaterOrEqual(t, auth[0].Seq, int64(1))
	assert.Equal(t, engineToken, auth[0].Data["token"])
	sub := e.requestsFor("subscribe_call")
	require.Len(t, sub, 1)
	assert.Greater(t, sub[0].Seq, auth[0].Seq)

	c := e.conn()
	ping := e.next("ping")
	assert.Equal(t, float64(1), ping.Data["ping"])
	c.call("leg-1", "ringing", ringingData)
	ev := nextEvent(t, st.Events())
	assert.Equal(t, webitel.EventCall, ev.Name)
	require.NotNil(t, ev.Call)
	assert.Equal(t, "leg-1", ev.Call.ID)
	assert.Equal(t, "fs-1", ev.Call.AppID)
	assert.Equal(t, "inbound", ev.Call.Direction)
	assert.Equal(t, &webitel.Endpoint{Type: "user", Number: "101", ID: "123", Name: "John"}, ev.Call.To)
	assert.Equal(t, time.UnixMilli(1714550000123).UTC(), ev.Call.At)
	assert.Positive(t, ev.Seq, "hello took seq 0")
}

// TestSocketHelloAfterTheReply: a hello that comes after the OK reply is
// taken by the reader all the same: the application ping starts.
func TestSocketHelloAfterTheReply(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) { e.pingInterval, e.helloLast = 20, true })
	st := subscribe(t, e.client())
	e.next("ping")
	c := e.conn()
	c.event("user_state", `{"state":{"id":"123","status":"online"}}`)
	ev := nextEvent(t, st.Events())
	assert.Equal(t, "user_state", ev.Name, "hello is not delivered")
}

// TestSocketAuthenticationRefused: a FAIL reply leaves the engine's socket
// open; the client gives up at once with a permanent error: 401 matches
// voip.ErrUnauthorized, 412 (no licence) voip.ErrForbidden.
func TestSocketAuthenticationRefused(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   error
		id     string
	}{
		{401, voip.ErrUnauthorized, "api.context.session_expired.app_error"},
		{412, voip.ErrForbidden, webitel.IDNoLicense},
	} {
		t.Run(http400(tc.status), func(t *testing.T) {
			noLeaks(t)
			e := newFakeEngine(t)
			e.set(func(e *fakeEngine) { e.authStatus = tc.status })
			_, err := e.client().Subscribe(t.Context())
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.ErrorIs(t, err, wsstream.ErrPermanent)
			var apiErr *voip.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.id, apiErr.Code)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.NotContains(t, err.Error(), engineToken)
			assert.Len(t, e.requestsFor("authentication_challenge"), 1, "never retried")
		})
	}
}

func http400(status int) string {
	if status == 412 {
		return "no licence"
	}
	return "unauthorized"
}

// TestSocketReconnectReauthenticatesAndResubscribes: a dropped socket is
// replaced: a gap notice, a new authentication and subscription, and the
// calls of subscribe_call's reply can be controlled.
func TestSocketReconnectReauthenticatesAndResubscribes(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	assert.False(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	e.conn()
	e.set(func(e *fakeEngine) {
		e.items = `[{"id":"leg-9","app_id":"fs-2","state":"active","direction":"inbound","timestamp":1714550000000,` +
			`"from":{"type":"dest","number":"0501234567"},"to":{"type":"user","number":"101"}}]`
	})
	e.drop()
	nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	c := e.conn()
	assert.Len(t, e.requestsFor("authentication_challenge"), 2)
	assert.Len(t, e.requestsFor("subscribe_call"), 2)

	require.NoError(t, st.Hold(t.Context(), "leg-9"))
	hold := e.requestsFor("call_hold")
	require.Len(t, hold, 1)
	assert.Equal(t, "fs-2", hold[0].Data["app_id"])
	c.event("user_state", `{"state":{"id":"123"}}`)
	assert.Equal(t, "user_state", nextEvent(t, st.Events()).Name)
}

// TestSocketHalfOpen: an engine that stops reading (no pongs) is declared
// dead by the protocol pings and replaced.
func TestSocketHalfOpen(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) { e.silentNext = 1 })
	st := subscribe(t, e.client(), webitel.WithPing(20*time.Millisecond, 20*time.Millisecond))
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
}

// TestSocketUnansweredApplicationPing: an engine that takes frames but
// leaves the application ping unanswered has a stuck reader: the
// connection is replaced, with a gap.
func TestSocketUnansweredApplicationPing(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) { e.pingInterval, e.mutePings = 20, 1 })
	st := subscribe(t, e.client())
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	d := nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.Contains(t, d.Err.Error(), "no pong to the application ping")
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	assert.Len(t, e.requestsFor("authentication_challenge"), 2)
}

// TestSocketSessionExpired: an error event that ends the session is
// delivered, and the stream authenticates again on a new connection.
func TestSocketSessionExpired(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	c := e.conn()
	c.event("error", `{"sock_id":"s1","error":{"id":"api.context.session_expired.app_error","code":401,"detail":"session expired","status":"Unauthorized"}}`)
	ev := nextEvent(t, st.Events())
	require.Equal(t, webitel.EventError, ev.Name)
	require.NotNil(t, ev.Err)
	assert.ErrorIs(t, ev.Err, voip.ErrUnauthorized)
	d := nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.ErrorIs(t, d.Err, voip.ErrUnauthorized)
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	assert.Len(t, e.requestsFor("authentication_challenge"), 2)
}

// TestSocketOutOfOrderReplies: replies are matched by seq_reply, whatever
// their order; a FAIL reply is a *voip.APIError with the AppError.
func TestSocketOutOfOrderReplies(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	var mu sync.Mutex
	var held []fakeRequest
	e.set(func(e *fakeEngine) {
		e.onAction = func(c *fakeConn, r fakeRequest) {
			mu.Lock()
			held = append(held, r)
			if len(held) < 3 {
				mu.Unlock()
				return
			}
			rs := held
			held = nil
			mu.Unlock()
			for i := len(rs) - 1; i >= 0; i-- { // newest first
				if rs[i].Data["agent_id"] == float64(13) {
					c.reply(rs[i].Seq, false, "", `{"id":"app.agent.not_found","status":"Not Found","detail":"agent 13","code":404}`)
					continue
				}
				c.reply(rs[i].Seq, true, `{}`, "")
			}
		}
	})
	st := subscribe(t, e.client())
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, id := range []int64{11, 12, 13} {
		wg.Go(func() { errs[i] = st.AgentOffline(t.Context(), id) })
	}
	wg.Wait()
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	var apiErr *voip.APIError
	require.ErrorAs(t, errs[2], &apiErr)
	assert.Equal(t, "app.agent.not_found", apiErr.Code)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.ErrorIs(t, errs[2], voip.ErrNotFound)
}

// TestSocketCanary: the token and hello's session token appear in no log
// line and no error, whatever the engine echoes.
func TestSocketCanary(t *testing.T) {
	noLeaks(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) {
		e.onAction = func(c *fakeConn, r fakeRequest) {
			c.reply(r.Seq, false, "", `{"id":"x.y","code":400,"detail":"bad session `+sessionSecret+` for `+engineToken+`"}`)
		}
	})
	var errs []error
	st := subscribe(t, e.client(webitel.WithLogger(log)))
	c := e.conn()
	c.write(`{"event":"hello","data":{"session":{"token":"` + sessionSecret + `"},"ping_interval":"x"},"seq":1}`) // malformed
	c.write(`{"event":"call","data":{"call":{"id":"` + sessionSecret + engineToken + `","timestamp":{}}},"seq":2}`)
	c.call("leg-1", "ringing", ringingData)
	nextEvent(t, st.Events())
	errs = append(errs, st.Hangup(t.Context(), "leg-1"), st.AgentOffline(t.Context(), 5))
	_, err := st.Call(t.Context(), "100")
	errs = append(errs, err)
	e.drop()
	nextNotice(t, st.Notices(), voip.NoticeConnected)
	require.NoError(t, st.Close())

	e2 := newFakeEngine(t)
	e2.set(func(e *fakeEngine) { e.authStatus = 401 })
	_, err = e2.client(webitel.WithLogger(log)).Subscribe(t.Context())
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		for _, secret := range []string{engineToken, sessionSecret} {
			assert.NotContains(t, err.Error(), secret)
			var apiErr *voip.APIError
			if errors.As(err, &apiErr) {
				assert.NotContains(t, apiErr.Message, secret)
			}
		}
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	assert.NotEmpty(t, out)
	for _, secret := range []string{engineToken, sessionSecret} {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, out, secret[:12])
	}
	assert.True(t, strings.Contains(out, "malformed"), "the malformed frames were logged")
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestSocketEventsWhileSubscribing: events that come before the
// subscription's reply are delivered, first and in order.
func TestSocketEventsWhileSubscribing(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) {
		e.beforeSub = func(c *fakeConn) {
			c.call("leg-1", "ringing", ringingData)
			c.call("leg-1", "active", `{}`)
		}
	})
	st := subscribe(t, e.client())
	ev := nextEvent(t, st.Events())
	assert.Equal(t, "ringing", ev.Call.Action)
	assert.Equal(t, "active", nextEvent(t, st.Events()).Call.Action)
	require.NoError(t, st.Hangup(t.Context(), "leg-1"), "its app_id is known")
}

// TestSocketRefusedOnReconnect: a token refused when the stream comes back
// stops it for good: a stopped notice, Events closed, Err the refusal.
func TestSocketRefusedOnReconnect(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	e.conn()
	e.set(func(e *fakeEngine) { e.authStatus = 401 })
	e.drop()
	n := nextNotice(t, st.Notices(), voip.NoticeStopped)
	assert.ErrorIs(t, n.Err, voip.ErrUnauthorized)
	for range st.Events() {
	}
	assert.ErrorIs(t, st.Err(), voip.ErrUnauthorized)
	assert.Len(t, e.requestsFor("authentication_challenge"), 2, "not retried")
}

// TestSocketRequestLostWithItsConnection: a request whose connection drops
// before the reply fails at once, as unreachable (only call_invite is
// ambiguous).
func TestSocketRequestLostWithItsConnection(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) {
		e.onAction = func(c *fakeConn, r fakeRequest) { go e.drop() }
	})
	st := subscribe(t, e.client())
	err := st.AgentOffline(t.Context(), 3)
	assert.ErrorIs(t, err, voip.ErrUnreachable)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
}
