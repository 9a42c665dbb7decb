package webitel

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// frameSeeds are the frames of the protocol notes (§6.1, §6.2, §6.6,
// shared/vendors/webitel.md) and the shapes around them: NULs, newlines,
// replies, data before the name, wrong types.
var frameSeeds = []string{
	`{"seq": 1, "action": "authentication_challenge", "data": {"token": "x"}}`,
	`{"status":"OK","seq_reply":1}` + "\n",
	`{"status":"FAIL","seq_reply":1,"error":{"id":"api.context.permissions.license","status":"Precondition Failed","detail":"token scope is forceless","code":412}}`,
	`{"event":"hello","data":{"server_node_id":"engine-1","server_build_commit":"c","server_version":"v","server_time":1714550000000,` +
		`"sock_id":"s","ping_interval":30000,"use_cc":true,"use_chat":true,"rtc_configuration":{},` +
		`"session":{"id":"i","name":"n","domain_id":1,"domain_name":"mycompany","expire":1715000000000,"user_id":123,"role_ids":[2],"token":"t","scopes":[]}},"seq":0}`,
	`{"event": "call", "data": {"call":{"id":"3f6b","event":"ringing","timestamp":"1714550000123","domain_id":"1","user_id":"123","app_id":"fs-1",` +
		`"data":{"user_id":123,"sip_id":"a1b2","direction":"inbound","destination":"101",` +
		`"from":{"type":"dest","number":"+380501234567","name":"+380501234567","id":""},"to":{"type":"user","number":"101","name":"John","id":"123"},` +
		`"payload":{"crm_lead":"42"},"queue":{"queue_id":"5","attempt_id":"991","queue_type":"inbound"}}}}, "seq": 5}` + "\n",
	`{"event":"call","data":{"call":{"id":"a","event":"hangup","timestamp":"1.714550000123e+12","data":{"cause":"NORMAL_CLEARING","sip":200,"talk_sec":"12","record_start":"1714550001000"}}},"seq":6}`,
	`{"data":{"call":{"id":"a","event":"bridge","data":{"bridged_id":"b","to":{"type":"dest","number":"0501234567"}}}},"event":"call","seq":7}`,
	`{"event":"agent_status","data":{"agent_id":10,"user_id":123,"domain_id":1,"timestamp":1714550000000,"status":"pause","status_payload":"lunch","status_comment":""},"seq":3}`,
	`{"event":"error","data":{"sock_id":"s","error":{"id":"api.context.session_expired.app_error","code":401}},"seq":4}`,
	`{"event":"user_state","data":{"state":{"id":"123","status":"online","presence":{}}},"seq":8}`,
	`{"status":"OK","seq_reply":2,"data":{"items":[{"id":"a","app_id":"fs-1","state":"active"}]}}`,
	"\x00\x00\x00\x00", "\n", "", `{}`, `[]`, `{"event":1}`, `{"EvEnt":"call","DATA":{"call":null}}`,
	`{"event":"call","data":{"call":{"data":{"sip":1e400}}}}`, `{"event":"call","event":"hello","data":{}}`,
	`{"data":[1,2],"event":"x"}`, `{"seq":-1,"event":"x"}`, `{"event":"call","data":{"call":{"data":{"payload":{"a":[]}}}}}`,
}

// FuzzParseFrame: no frame panics the decoder; a refused frame is a
// *DecodeError matching voip.ErrMalformed; an accepted one is an event
// (with its Raw and a consistent Voip) or a reply.
func FuzzParseFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		fr, err := parseFrame(data, time.Unix(1714550000, 0))
		if err != nil {
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%T", err)
			require.ErrorIs(t, err, voip.ErrMalformed)
			require.NotEmpty(t, err.Error())
			return
		}
		if fr.event == nil {
			require.True(t, fr.seqReply > 0 || fr.status != "", "a reply has a seq_reply or a status")
			return
		}
		ev := fr.event
		require.NotEmpty(t, ev.Name)
		require.True(t, json.Valid(ev.Raw), "Raw is the trimmed JSON object")
		if v, ok := ev.Voip(); ok {
			require.NotNil(t, ev.Call)
			require.NotEqual(t, voip.EventUnknown, v.Kind)
			require.Equal(t, ev.Call.ID, v.CallID)
		}
		// The stream's path: tracking never panics either.
		s := &Stream{calls: map[string]*callState{}}
		if ev.Call != nil {
			s.track(ev)
		}
	})
}
