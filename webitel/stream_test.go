package webitel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

func TestStreamOptionsAreValidated(t *testing.T) {
	for _, opt := range []webitel.StreamOption{
		webitel.WithBackoff(0, time.Second), webitel.WithBackoff(2*time.Second, time.Second),
		webitel.WithPing(0, time.Second), webitel.WithBuffer(0), webitel.WithRequestTimeout(-1),
		webitel.WithAgentStatus(0),
	} {
		c, err := webitel.New("http://127.0.0.1:1", engineToken)
		require.NoError(t, err)
		_, err = c.Subscribe(t.Context(), opt)
		assert.Error(t, err)
	}
}

// TestStreamCall: call_invite with the destination, the reply's id.
func TestStreamCall(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	e.set(func(e *fakeEngine) {
		e.onAction = func(c *fakeConn, r fakeRequest) { c.reply(r.Seq, true, `{"id":"call-77"}`, "") }
	})
	st := subscribe(t, e.client())
	id, err := st.Call(t.Context(), " +380501234567 ")
	require.NoError(t, err)
	assert.Equal(t, "call-77", id)
	inv := e.requestsFor("call_invite")
	require.Len(t, inv, 1)
	assert.Equal(t, "+380501234567", inv[0].Data["destination"])

	_, err = st.Call(t.Context(), " ")
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.Len(t, e.requestsFor("call_invite"), 1, "nothing sent")
}

// TestStreamCallIsNeverDoubled: a call_invite whose connection drops
// before the reply, or whose reply never comes, fails with
// voip.ErrAmbiguous and is sent once, reconnect or not.
func TestStreamCallIsNeverDoubled(t *testing.T) {
	t.Run("dropped", func(t *testing.T) {
		noLeaks(t)
		e := newFakeEngine(t)
		e.set(func(e *fakeEngine) {
			e.onAction = func(c *fakeConn, r fakeRequest) { go e.drop() }
		})
		st := subscribe(t, e.client())
		assert.False(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
		_, err := st.Call(t.Context(), "100")
		require.Error(t, err)
		assert.ErrorIs(t, err, voip.ErrAmbiguous)
		assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
		assert.Len(t, e.requestsFor("call_invite"), 1)
	})
	t.Run("no reply", func(t *testing.T) {
		noLeaks(t)
		e := newFakeEngine(t)
		e.set(func(e *fakeEngine) { e.onAction = func(*fakeConn, fakeRequest) {} })
		st := subscribe(t, e.client(), webitel.WithRequestTimeout(50*time.Millisecond))
		_, err := st.Call(t.Context(), "100")
		assert.ErrorIs(t, err, voip.ErrAmbiguous)
		assert.Len(t, e.requestsFor("call_invite"), 1)
	})
	t.Run("refused", func(t *testing.T) {
		noLeaks(t)
		e := newFakeEngine(t)
		e.set(func(e *fakeEngine) {
			e.onAction = func(c *fakeConn, r fakeRequest) {
				c.reply(r.Seq, false, "", `{"id":"app.call.create.valid.busy","status":"Bad Request","detail":"busy","code":400}`)
			}
		})
		st := subscribe(t, e.client())
		_, err := st.Call(t.Context(), "100")
		assert.ErrorIs(t, err, voip.ErrConflict)
		assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	})
}

// TestStreamCallControlNeedsTheAppID: control actions carry the app_id of
// the call's own events; a call the stream has not seen, or that has hung
// up, is refused before anything is sent.
func TestStreamCallControlNeedsTheAppID(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	c := e.conn()

	err := st.Hangup(t.Context(), "leg-1")
	assert.ErrorIs(t, err, webitel.ErrUnknownCall)
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.Empty(t, e.requestsFor("call_hangup"))

	c.call("leg-1", "ringing", ringingData)
	nextEvent(t, st.Events())
	require.NoError(t, st.Hold(t.Context(), "leg-1"))
	require.NoError(t, st.Unhold(t.Context(), "leg-1"))
	require.NoError(t, st.DTMF(t.Context(), "leg-1", "5#"))
	require.NoError(t, st.Hangup(t.Context(), "leg-1"))
	for _, action := range []string{"call_hold", "call_unhold", "call_hangup"} {
		r := e.requestsFor(action)
		require.Len(t, r, 1, action)
		assert.Equal(t, map[string]any{"id": "leg-1", "app_id": "fs-1"}, r[0].Data)
	}
	dtmf := e.requestsFor("call_dtmf")
	require.Len(t, dtmf, 2)
	assert.Equal(t, "5", dtmf[0].Data["dtmf"])
	assert.Equal(t, "#", dtmf[1].Data["dtmf"])
	assert.Equal(t, "fs-1", dtmf[1].Data["app_id"])

	assert.ErrorIs(t, st.DTMF(t.Context(), "leg-1", "5x"), voip.ErrBadRequest)
	assert.Len(t, e.requestsFor("call_dtmf"), 2)

	c.call("leg-1", "hangup", `{"cause":"NORMAL_CLEARING","sip":200}`)
	nextEvent(t, st.Events())
	assert.ErrorIs(t, st.Hangup(t.Context(), "leg-1"), webitel.ErrUnknownCall, "forgotten on hangup")
}

// TestStreamAgent: the agent actions send agent_id as a JSON number; with
// WithAgentStatus the stream subscribes to the agent's status on connect
// and delivers its events.
func TestStreamAgent(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client(), webitel.WithAgentStatus(10))
	sub := e.requestsFor("cc_agent_subscribe_status")
	require.Len(t, sub, 1)
	assert.Contains(t, sub[0].raw, `"agent_id":10`)

	require.NoError(t, st.AgentOnline(t.Context(), 10, false))
	require.NoError(t, st.AgentPause(t.Context(), 10, "lunch"))
	require.NoError(t, st.AgentOffline(t.Context(), 10))
	for _, a := range []string{"cc_agent_online", "cc_agent_pause", "cc_agent_offline"} {
		r := e.requestsFor(a)
		require.Len(t, r, 1, a)
		assert.Contains(t, r[0].raw, `"agent_id":10`, a)
	}
	assert.Equal(t, "lunch", e.requestsFor("cc_agent_pause")[0].Data["payload"])
	assert.ErrorIs(t, st.AgentOffline(t.Context(), 0), voip.ErrBadRequest)

	e.conn().event("agent_status", `{"agent_id":10,"user_id":123,"domain_id":1,"timestamp":1714550000000,`+
		`"status":"pause","status_payload":"lunch","status_comment":""}`)
	ev := nextEvent(t, st.Events())
	require.NotNil(t, ev.AgentStatus)
	assert.Equal(t, webitel.AgentStatus{AgentID: 10, UserID: 123, DomainID: 1, Status: "pause", StatusPayload: "lunch",
		At: time.UnixMilli(1714550000000).UTC()}, *ev.AgentStatus)
}

// TestStreamRequestsAfterClose: a closed stream refuses requests, and its
// events and notices are closed.
func TestStreamRequestsAfterClose(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	require.NoError(t, st.Close())
	_, err := st.Call(t.Context(), "100")
	assert.True(t, errors.Is(err, webitel.ErrClosed), "%v", err)
	assert.Empty(t, e.requestsFor("call_invite"))
	for range st.Events() {
	}
	assert.NoError(t, st.Err())
}
