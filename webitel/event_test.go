package webitel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// sampleRinging is the notes' example ringing frame (§6.6), as the engine
// writes it: event first, a trailing newline.
const sampleRinging = `{"event":"call","seq":5,"data":{"call":{` +
	`"id":"3f6b1c1e-0000-4000-8000-000000000001","event":"ringing","timestamp":"1714550000123","domain_id":"1","user_id":"123","app_id":"fs-1",` +
	`"data":{"user_id":123,"sip_id":"a1b2","direction":"inbound","destination":"101",` +
	`"from":{"type":"dest","number":"+380501234567","name":"+380501234567","id":""},` +
	`"to":{"type":"user","number":"101","name":"John","id":"123"},` +
	`"payload":{"crm_lead":"42"},"queue":{"queue_id":"5","attempt_id":"991","queue_type":"inbound"}}}}}` + "\n"

func TestParseEventRinging(t *testing.T) {
	ev, err := webitel.ParseEvent([]byte(sampleRinging))
	require.NoError(t, err)
	assert.Equal(t, "call", ev.Name)
	assert.Equal(t, int64(5), ev.Seq)
	require.NotNil(t, ev.Call)
	c := ev.Call
	assert.Equal(t, "3f6b1c1e-0000-4000-8000-000000000001", c.ID)
	assert.Equal(t, "ringing", c.Action)
	assert.Equal(t, "fs-1", c.AppID)
	assert.Equal(t, "123", c.UserID)
	assert.Equal(t, "1", c.DomainID)
	assert.Equal(t, "inbound", c.Direction)
	assert.Equal(t, "101", c.Destination)
	assert.Equal(t, time.UnixMilli(1714550000123).UTC(), c.At)
	assert.Equal(t, &webitel.Endpoint{Type: "dest", Number: "+380501234567", Name: "+380501234567"}, c.From)
	assert.Equal(t, map[string]string{"crm_lead": "42"}, c.Payload)
	assert.Equal(t, byte('}'), ev.Raw[len(ev.Raw)-1], "the newline is not part of Raw")

	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.EventStart, v.Kind)
	assert.Equal(t, voip.DirectionIn, v.Direction)
	assert.Equal(t, "+380501234567", v.Client)
	assert.Equal(t, "101", v.Ext)
}

func TestParseEventHangup(t *testing.T) {
	// data before event, a string seq and talk_sec and record_start as
	// strings, as the engine and mod_grpc send them.
	ev, err := webitel.ParseEvent([]byte(" \x00" + `{"data":{"call":{"id":"leg","event":"hangup","timestamp":"1714550060000","app_id":"fs-1",` +
		`"data":{"cause":"USER_BUSY","sip":486,"hangup_by":"B","talk_sec":"0","record_start":"1714550001000","record_stop":"0"}}},` +
		`"event":"call","seq":"7"}` + "\n\x00"))
	require.NoError(t, err)
	c := ev.Call
	require.NotNil(t, c)
	assert.Equal(t, int64(7), ev.Seq)
	assert.Equal(t, "USER_BUSY", c.Cause)
	assert.Equal(t, 486, c.SIP)
	assert.Equal(t, "B", c.HangupBy)
	assert.Zero(t, c.Talk)
	assert.Equal(t, time.UnixMilli(1714550001000).UTC(), c.RecordStart)
	assert.True(t, c.RecordStop.IsZero())
	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.EventEnd, v.Kind)
	assert.Equal(t, voip.DispositionBusy, v.Disposition)
	assert.Equal(t, "USER_BUSY", v.RawStatus)
}

func TestParseEventOthers(t *testing.T) {
	ev, err := webitel.ParseEvent([]byte(`{"event":"agent_status","data":{"agent_id":10,"user_id":"123","status":"online","on_demand":true,"timestamp":1714550000000},"seq":2}`))
	require.NoError(t, err)
	require.NotNil(t, ev.AgentStatus)
	assert.Equal(t, int64(10), ev.AgentStatus.AgentID)
	assert.Equal(t, int64(123), ev.AgentStatus.UserID)
	assert.True(t, ev.AgentStatus.OnDemand)
	_, ok := ev.Voip()
	assert.False(t, ok)

	ev, err = webitel.ParseEvent([]byte(`{"event":"error","data":{"sock_id":"s","error":{"id":"api.context.session_expired.app_error","status":"Unauthorized","detail":"expired","code":401}},"seq":9}`))
	require.NoError(t, err)
	require.NotNil(t, ev.Err)
	assert.Equal(t, webitel.IDSessionExpired, ev.Err.Code)
	assert.ErrorIs(t, ev.Err, voip.ErrUnauthorized)

	ev, err = webitel.ParseEvent([]byte(`{"event":"hello","data":{"ping_interval":30000,"sock_id":"s1","session":{"user_id":123,"domain_id":1,"domain_name":"demo","token":"secret-session-token"}},"seq":0}`))
	require.NoError(t, err)
	require.NotNil(t, ev.Hello)
	assert.Equal(t, 30*time.Second, ev.Hello.PingInterval)
	assert.Equal(t, "demo", ev.Hello.DomainName)
	assert.Equal(t, int64(123), ev.Hello.UserID)
	assert.NotContains(t, string(ev.Raw), "secret-session-token")

	ev, err = webitel.ParseEvent([]byte(`{"EVENT":"user_state","Data":{"state":{"id":"123","status":"dnd"}},"seq":3,"user_id":123}`))
	require.NoError(t, err)
	assert.Equal(t, "user_state", ev.Name, "names match without regard to case")
	assert.Nil(t, ev.Call)
}

func TestParseEventRefusesWhatIsNotAnEvent(t *testing.T) {
	for _, in := range []string{
		"", "\x00\x00\x00\x00", "\n", `[]`, `null`, `"call"`, `{"status":"OK","seq_reply":1}`,
		`{"event":"call","data":{"call":{"id":{}}}}`, `{"event":"call","data":"x"}`, `{"event":"call"} {}`,
		`{"event":"call",}`, `{"seq":1}`, `{"event":"call","data":{"call":{"timestamp":"yesterday"}}}`,
	} {
		_, err := webitel.ParseEvent([]byte(in))
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, voip.ErrMalformed, "%q", in)
		var de *webitel.DecodeError
		assert.ErrorAs(t, err, &de, "%q", in)
	}
}
