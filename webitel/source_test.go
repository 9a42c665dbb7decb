package webitel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// TestSourceAnsweredCall: ringing is Start, the first active Answer; hold
// and the active that resumes are not a second answer; hangup is End,
// answered. Parties come from the ringing.
func TestSourceAnsweredCall(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	var src voip.Source = st.Source()
	assert.Same(t, src, st.Source())
	c := e.conn()
	c.event("agent_status", `{"agent_id":1,"status":"online"}`) // not a call: left out
	c.call("leg-1", "ringing", ringingData)
	c.call("leg-1", "active", `{}`)
	c.call("leg-1", "hold", `{}`)
	c.call("leg-1", "active", `{}`)
	c.call("leg-1", "bridge", `{"bridged_id":"leg-2","direction":"inbound","to":{"type":"dest","number":"+380501234567"}}`)
	c.call("leg-1", "hangup", `{"cause":"NORMAL_CLEARING","sip":200,"talk_sec":"42","hangup_by":"B"}`)

	start := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventStart, start.Kind)
	assert.Equal(t, "leg-1", start.CallID)
	assert.Equal(t, voip.DirectionIn, start.Direction)
	assert.Equal(t, "+380501234567", start.Client)
	assert.Equal(t, "101", start.Ext)
	assert.Equal(t, webitel.Vendor, start.Vendor)
	assert.NotEmpty(t, start.Raw)

	answer := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventAnswer, answer.Kind)
	assert.Equal(t, "active", answer.RawStatus)

	end := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventEnd, end.Kind, "no second answer")
	assert.Equal(t, voip.DispositionAnswered, end.Disposition)
	assert.Equal(t, "NORMAL_CLEARING", end.RawStatus)
	assert.Equal(t, "+380501234567", end.Client)
	assert.Equal(t, "101", end.Ext)

	require.NoError(t, src.Close())
	_, ok := <-src.Events()
	assert.False(t, ok)
	assert.NoError(t, src.Err())
}

// TestSourceUnansweredCall: a hangup before any answer takes its outcome
// from the cause, whatever the sip (200 when mod_grpc knows none); an
// outbound leg's client is its To.
func TestSourceUnansweredCall(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	c := e.conn()
	// Queued before Source: they move to it, in order.
	c.call("leg-5", "ringing", `{"direction":"outbound","from":{"type":"user","number":"101","id":"123"},"to":{"type":"dest","number":"0671234567"}}`)
	nextEventQueued(t, st, 1)
	src := st.Source()
	c.call("leg-5", "hangup", `{"cause":"NO_ANSWER","sip":200}`)
	c.call("leg-6", "ringing", ringingData)
	c.call("leg-6", "hangup", `{"cause":"ORIGINATOR_CANCEL","sip":487}`)

	start := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventStart, start.Kind)
	assert.Equal(t, voip.DirectionOut, start.Direction)
	assert.Equal(t, "+380671234567", start.Client)
	assert.Equal(t, "101", start.Ext)
	end := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventEnd, end.Kind)
	assert.Equal(t, voip.DispositionNoAnswer, end.Disposition)
	assert.Equal(t, voip.EventStart, nextVoip(t, src.Events()).Kind)
	assert.Equal(t, voip.DispositionCancel, nextVoip(t, src.Events()).Disposition)
}

// TestSourcePassesGapNotices: a reconnect reaches the Source as a notice
// with Gap.
func TestSourcePassesGapNotices(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	src := st.Source()
	assert.False(t, nextNotice(t, src.Notices(), voip.NoticeConnected).Gap)
	e.conn()
	e.drop()
	assert.True(t, nextNotice(t, src.Notices(), voip.NoticeConnected).Gap)
}

// nextEventQueued waits until n events are queued on the stream's own
// channel, unread.
func nextEventQueued(t *testing.T, st *webitel.Stream, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(st.Events()) == n }, sockWait, 1e6)
}

// TestStreamEventVoipUsesTheCallsHistory: on the stream's own events, Voip
// knows the call: the active that resumes a hold is not an answer, and a
// hangup after it is answered.
func TestStreamEventVoipUsesTheCallsHistory(t *testing.T) {
	noLeaks(t)
	e := newFakeEngine(t)
	st := subscribe(t, e.client())
	c := e.conn()
	c.call("leg-1", "ringing", ringingData)
	c.call("leg-1", "active", `{}`)
	c.call("leg-1", "hold", `{}`)
	c.call("leg-1", "active", `{}`)
	c.call("leg-1", "hangup", `{"cause":"NORMAL_CLEARING","sip":200}`)
	for _, want := range []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventUnknown, voip.EventUnknown, voip.EventEnd} {
		v, ok := nextEvent(t, st.Events()).Voip()
		assert.Equal(t, want != voip.EventUnknown, ok)
		assert.Equal(t, want, v.Kind)
		if want == voip.EventEnd {
			assert.Equal(t, voip.DispositionAnswered, v.Disposition, "answered, though the cause alone says nothing")
		}
	}
}
