package webitel

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestParseAppError(t *testing.T) {
	cases := []struct {
		body       string
		status     int
		code, msg  string
		kind       error
		wantStatus int
	}{
		{`{"id":"app.call.create.valid.busy","status":"Bad Request","detail":"busy","request_id":"r1","code":400}`, 400, IDBusy, "busy", voip.ErrConflict, 400},
		{`{"id":"api.context.permissions.license","code":412,"detail":"token scope is forceless"}`, 412, IDNoLicense, "token scope is forceless", voip.ErrForbidden, 412},
		{`{"id":"api.context.session_expired.app_error","code":"401","detail":"expired"}`, 401, IDSessionExpired, "expired", voip.ErrUnauthorized, 401},
		{`{"code":5,"message":"not found","details":[]}`, 404, "", "not found", voip.ErrNotFound, 404},
		{`upstream timed out`, 504, "", "upstream timed out", voip.ErrServer, 504},
		{`<html>bad gateway</html>`, 502, "", "", voip.ErrServer, 502},
		{``, 403, "", "", voip.ErrForbidden, 403},
		// A socket FAIL reply: the AppError's code is the status.
		{`{"id":"api.context.permissions.license","code":412,"status":"Precondition Failed"}`, 0, IDNoLicense, "Precondition Failed", voip.ErrForbidden, 412},
		{`{"id":"x.y","code":"nonsense"}`, 0, "x.y", "", voip.ErrBadRequest, 0},
	}
	for _, tc := range cases {
		e := parseAppError([]byte(tc.body), tc.status)
		assert.Equal(t, tc.code, e.Code, tc.body)
		assert.Equal(t, tc.msg, e.Message, tc.body)
		assert.Equal(t, tc.wantStatus, e.StatusCode, tc.body)
		assert.ErrorIs(t, e, tc.kind, tc.body)
	}
}

func TestUnwrapEntity(t *testing.T) {
	for in, want := range map[string]string{
		`{"device":{"id":"1"}}`:       `{"id":"1"}`,
		` {"updated": {"id":"1"}} `:   `{"id":"1"}`,
		`{"id":"1"}`:                  `{"id":"1"}`,
		`{"device":{"id":"1"},"x":1}`: `{"device":{"id":"1"},"x":1}`,
		`{"device":"7287"}`:           `{"device":"7287"}`,
		`{"other":{"id":"1"}}`:        `{"other":{"id":"1"}}`,
		`[]`:                          `[]`,
	} {
		assert.Equal(t, want, string(unwrapEntity([]byte(in), deviceKeys...)), in)
	}
}

func TestWireBool(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `1`: true, `false`: false, `null`: false, `""`: false, `"0"`: false} {
		var b wireBool
		require.NoError(t, b.UnmarshalJSON([]byte(in)), in)
		assert.Equal(t, want, bool(b), in)
	}
	var b wireBool
	assert.Error(t, b.UnmarshalJSON([]byte(`"maybe"`)))
	assert.Error(t, b.UnmarshalJSON([]byte(`{}`)))
}

func TestCheckPartial(t *testing.T) {
	err := checkPartial(&rest.Response{StatusCode: http.StatusOK, Header: http.Header{}})
	require.ErrorIs(t, err, voip.ErrBadResponse)
	require.NoError(t, checkPartial(&rest.Response{StatusCode: http.StatusPartialContent, Header: http.Header{}}))
}
