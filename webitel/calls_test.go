package webitel_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

func TestCreateCall(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"POST /api/calls": restOK(`{"id":"3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d"}`)}.handler)
	id, err := c.CreateCall(t.Context(), webitel.CallRequest{FromExtension: "101", Destination: " +380501234567 ",
		Variables: map[string]string{"crm_lead": "42"}, Timeout: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d", id)
	assert.JSONEq(t, `{"from":{"extension":"101"},"destination":"+380501234567","params":{"timeout":30,"variables":{"crm_lead":"42"}}}`, s.requests()[0].Body)

	_, err = c.CreateCall(t.Context(), webitel.CallRequest{FromUserID: "123", Destination: "102"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"from":{"id":"123"},"destination":"102"}`, s.requests()[1].Body, "int64 ids are sent as strings")

	_, err = c.CreateCall(t.Context(), webitel.CallRequest{Destination: "102"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"destination":"102"}`, s.requests()[2].Body, "without from, the token's user is rung")
}

func TestGenerateCall(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"POST /api/calls": restOK(`{"id":"leg-1"}`)}.handler)
	var p voip.Provider = c
	id, err := p.GenerateCall(t.Context(), "101", "050 123 45 67")
	require.NoError(t, err)
	assert.Equal(t, "leg-1", id)
	assert.JSONEq(t, `{"from":{"extension":"101"},"destination":"+380501234567"}`, s.requests()[0].Body)

	_, err = p.GenerateCall(t.Context(), "101", "not a number")
	var arg *voip.ArgError
	require.ErrorAs(t, err, &arg)
	assert.Equal(t, "phone", arg.Arg)
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	_, err = p.GenerateCall(t.Context(), " ", "0501234567")
	require.ErrorAs(t, err, &arg)
	assert.Len(t, s.requests(), 1, "refused arguments send nothing")
}

func TestCreateCallBusy(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"POST /api/calls": {http.StatusBadRequest,
		`{"id":"app.call.create.valid.busy","status":"Bad Request","detail":"user is busy","code":400}`}}.handler)
	_, err := c.GenerateCall(t.Context(), "101", "+380501234567")
	require.ErrorIs(t, err, voip.ErrConflict)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous, "a refusal is not ambiguous")
	var api *voip.APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, webitel.IDBusy, api.Code)
	assert.Len(t, s.requests(), 1)
}

func TestCreateCallNoID(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{"POST /api/calls": restOK(`{}`)}.handler)
	_, err := c.CreateCall(t.Context(), webitel.CallRequest{Destination: "1"})
	require.ErrorIs(t, err, voip.ErrBadResponse)
	_, err = c.CreateCall(t.Context(), webitel.CallRequest{})
	var arg *voip.ArgError
	require.ErrorAs(t, err, &arg)
}

func TestCallControl(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"DELETE /api/calls/active/c1":         restOK(`{}`),
		"PATCH /api/calls/active/c1/hold":     restOK(`{"state":"hold"}`),
		"PATCH /api/calls/active/c1/unhold":   restOK(`{"state":"active"}`),
		"PATCH /api/calls/active/c1/transfer": restOK(`{}`),
		"POST /api/calls/active/c1/eavesdrop": restOK(`{}`),
		"GET /api/calls/active":               restOK(`{"next":false,"items":[{"id":"c1","app_id":"fs-1","state":"active","direction":"outbound","from":{"type":"user","number":"101","id":"123"},"created_at":"1714550000000","duration":12,"user":{"id":"123","name":"John"}}]}`),
		"GET /api/calls/c1/files":             restOK(`{"items":[{"id":"555","name":"rec.mp3","size":"123456","mime_type":"audio/mp3","type":"file_type_audio","start_at":"1714550012000"}]}`),
	}.handler)
	ctx := t.Context()
	require.NoError(t, c.HangupCall(ctx, "c1"))
	require.NoError(t, c.Hold(ctx, "c1"))
	require.NoError(t, c.Unhold(ctx, "c1"))
	require.NoError(t, c.BlindTransfer(ctx, "c1", "102"))
	_, err := c.Eavesdrop(ctx, "c1", webitel.Eavesdrop{FromUserID: "5", ListenA: true})
	require.NoError(t, err)
	reqs := s.requests()
	assert.JSONEq(t, `{"cause":"NORMAL_CLEARING"}`, reqs[0].Body)
	assert.JSONEq(t, `{"destination":"102"}`, reqs[3].Body)
	assert.JSONEq(t, `{"listen_a":true,"from":{"id":"5"}}`, reqs[4].Body)

	var active []webitel.ActiveCall
	for a, err := range c.ActiveCalls(ctx, webitel.ActiveQuery{UserIDs: []string{"123"}}) {
		require.NoError(t, err)
		active = append(active, a)
	}
	require.Len(t, active, 1)
	assert.Equal(t, "fs-1", active[0].AppID)
	assert.Equal(t, 12*time.Second, active[0].Duration)
	assert.Equal(t, &webitel.Endpoint{Type: "user", Number: "101", ID: "123"}, active[0].From)
	assert.NotEmpty(t, active[0].Raw)
	assert.Contains(t, s.requests()[5].RawQuery, "user_id=123")

	files, err := c.CallFiles(ctx, "c1")
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, int64(123456), files[0].Size)
	assert.Equal(t, "file_type_audio", files[0].Type)

	var arg *voip.ArgError
	require.ErrorAs(t, c.HangupCall(ctx, ""), &arg)
	require.ErrorAs(t, c.Hold(ctx, ""), &arg)
	require.ErrorAs(t, c.BlindTransfer(ctx, "c1", ""), &arg)
}

// TestDTMFNotOverREST: the engine drops a single REST digit, so DTMF sends
// nothing and points to the socket.
func TestDTMFNotOverREST(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{}.handler)
	err := c.DTMF(t.Context(), "c1", "5")
	require.ErrorIs(t, err, voip.ErrNotSupported)
	assert.Contains(t, err.Error(), "Stream.DTMF")
	assert.Empty(t, s.requests())
}
