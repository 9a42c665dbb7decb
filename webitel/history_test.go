package webitel_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// historySample is the notes' illustrative history page (§4.4).
const historySample = `{
  "next": false,
  "items": [{
    "id": "3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d", "app_id": "fs-1", "type": "call",
    "direction": "outbound", "destination": "+380501234567",
    "from": {"type": "user", "number": "101", "id": "123", "name": "John"},
    "to": {"type": "dest", "number": "+380501234567", "id": "", "name": ""},
    "user": {"id": "123", "name": "John"}, "extension": "101",
    "created_at": "1714550000000", "answered_at": "1714550005000", "bridged_at": "1714550012000", "hangup_at": "1714550100000",
    "hangup_by": "A", "cause": "NORMAL_CLEARING", "sip_code": 200,
    "duration": 100, "bill_sec": 88, "hold_sec": 0, "wait_sec": 12, "talk_sec": 88,
    "variables": {"crm_lead": "42"},
    "files": [{"id": "555", "name": "rec.mp3", "size": "123456", "mime_type": "audio/mp3",
               "start_at": "1714550012000", "stop_at": "1714550100000", "channel": "call", "type": "file_type_audio"}],
    "has_children": true
  },{
    "id": "in-2", "direction": "inbound", "from": {"type": "dest", "number": "0671234567"},
    "to": {"type": "user", "number": "102", "id": "5"}, "destination": "102",
    "created_at": 1714550000000, "answered_at": "0", "bridged_at": "0", "cause": "USER_BUSY", "sip_code": "486",
    "duration": "7", "talk_sec": 0, "bill_sec": 0, "missed": true
  },{
    "id": "in-3", "direction": "inbound", "from": {"type": "dest", "number": "38067***567"},
    "created_at": "1714550000000", "answered_at": "0", "cause": "NORMAL_CLEARING"
  }]
}`

func TestHistory(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"GET /api/calls/history": restOK(historySample)}.handler)
	from := time.UnixMilli(1714521600000)
	to := time.UnixMilli(1714607999999)
	var got []webitel.HistoryCall
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{From: from, To: to, SkipParent: true, HasFile: true,
		Sort: "-created_at", PageSize: 50, Directions: []string{"inbound", "outbound"}}) {
		require.NoError(t, err)
		got = append(got, h)
	}
	require.Len(t, got, 3)
	q, err := url.ParseQuery(s.requests()[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"page": {"1"}, "size": {"50"}, "sort": {"-created_at"}, "created_at.from": {"1714521600000"},
		"created_at.to": {"1714607999999"}, "skip_parent": {"true"}, "has_file": {"true"}, "directions": {"inbound", "outbound"}}, q)

	h := got[0]
	assert.Equal(t, "3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d", h.ID)
	assert.Equal(t, 200, h.SIPCode)
	assert.Equal(t, 88*time.Second, h.Talk)
	assert.Equal(t, []webitel.File{{ID: "555", Name: "rec.mp3", MimeType: "audio/mp3", Type: "file_type_audio", Size: 123456,
		StartAt: time.UnixMilli(1714550012000).UTC(), StopAt: time.UnixMilli(1714550100000).UTC(), Channel: "call"}}, h.Files)
	assert.Equal(t, map[string]string{"crm_lead": "42"}, h.Variables)
	assert.True(t, h.HasChildren)
	assert.Contains(t, string(h.Raw), `"crm_lead"`)

	call := h.Call()
	assert.Equal(t, voip.Call{ID: h.ID, Vendor: webitel.Vendor, Direction: voip.DirectionOut, Client: "+380501234567", Ext: "101",
		StartedAt: time.UnixMilli(1714550000000).UTC(), AnsweredAt: time.UnixMilli(1714550005000).UTC(),
		Duration: 100 * time.Second, Talk: 88 * time.Second, Disposition: voip.DispositionAnswered,
		RawStatus: "NORMAL_CLEARING", Raw: h.Raw}, call)

	busy := got[1].Call()
	assert.Equal(t, voip.DirectionIn, busy.Direction)
	assert.Equal(t, "+380671234567", busy.Client, "a national number is read as Ukrainian")
	assert.Equal(t, "102", busy.Ext)
	assert.Equal(t, voip.DispositionBusy, busy.Disposition)
	assert.True(t, busy.AnsweredAt.IsZero())
	assert.Equal(t, 7*time.Second, busy.Duration)
	assert.True(t, got[1].Missed)

	masked := got[2].Call()
	assert.Equal(t, "38067***567", masked.Client, "a masked number stays as sent")
	assert.Equal(t, voip.DispositionNoAnswer, masked.Disposition, "an unanswered NORMAL_CLEARING")
}

func TestHistoryAnchors(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"GET /api/calls/history": restOK(`{"items":[]}`)}.handler)
	bad := map[string]webitel.HistoryQuery{
		"From":         {},
		"From only To": {To: time.Now()},
		"To":           {From: time.Now(), To: time.Now().Add(-time.Hour)},
		"PageSize":     {Number: "101", PageSize: -1},
		"IDs":          {IDs: []string{""}},
		"Directions":   {Number: "1", Directions: []string{"sideways"}},
	}
	for name, q := range bad {
		var n int
		for _, err := range c.History(t.Context(), q) {
			n++
			var arg *voip.ArgError
			require.ErrorAs(t, err, &arg, name)
			assert.Equal(t, "History", arg.Func)
		}
		assert.Equal(t, 1, n, name)
	}
	assert.Empty(t, s.requests(), "nothing is sent for a refused query")

	good := []webitel.HistoryQuery{{IDs: []string{"a", "b"}}, {Number: "101"}, {Q: "x"}, {DependencyID: "d"}, {From: time.Now().Add(-time.Hour)}}
	for _, q := range good {
		for _, err := range c.History(t.Context(), q) {
			require.NoError(t, err)
		}
	}
	reqs := s.requests()
	require.Len(t, reqs, len(good))
	assert.Equal(t, "id=a&id=b&page=1&size=100", reqs[0].RawQuery, "one call looked up without dates")
	q, _ := url.ParseQuery(reqs[4].RawQuery)
	assert.NotEmpty(t, q.Get("created_at.to"), "a From without To sends now as To")
}

func TestHistoryBadRecord(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{"GET /api/calls/history": restOK(`{"items":[{"id":"ok"},{"direction":"inbound"}]}`)}.handler)
	var ids []string
	var last error
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{Number: "1"}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, h.ID)
	}
	assert.Equal(t, []string{"ok"}, ids)
	require.ErrorIs(t, last, voip.ErrBadResponse)
}

func TestHistoryEngineRefusal(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{"GET /api/calls/history": {400,
		`{"id":"grpc.call.search_history","code":400,"detail":"filter created_at or stored_at or q is required","status":"Bad Request"}`}}.handler)
	for _, err := range c.History(t.Context(), webitel.HistoryQuery{Number: "1"}) {
		require.ErrorIs(t, err, voip.ErrBadRequest)
		var api *voip.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, "grpc.call.search_history", api.Code)
	}
}
