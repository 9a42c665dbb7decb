package gravitel_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

// TestErrorShapes sends a read into every failure shape the PBX has been
// seen to answer with.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		status     int
		kind       error
		message    string
		location   string
	}{
		{"invalid parameters", `{"error":"Invalid parameters"}`, 400, voip.ErrBadRequest, "Invalid parameters", ""},
		{"invalid parameters with detail", `{"error":"Invalid parameters: [cmd]"}`, 400, voip.ErrBadRequest, "Invalid parameters: [cmd]", ""},
		{"invalid token", `{"error":"Invalid token"}`, 401, voip.ErrUnauthorized, "Invalid token", ""},
		{"invalid token with 200", `{"error":"Invalid token"}`, 200, voip.ErrUnauthorized, "Invalid token", ""},
		{"other error with 200", `{"error":"Something odd"}`, 200, voip.ErrBadRequest, "Something odd", ""},
		{"5xx text", "502 Gateway Timeout", 502, voip.ErrServer, "502 Gateway Timeout", ""},
		{"500 empty", "", 500, voip.ErrServer, "", ""},
		{"HTML page", "<html><body>nginx</body></html>", 503, voip.ErrServer, "", ""},
		{"wrong tenant redirect", "", 301, voip.ErrNotFound, "redirected without a Location: check the endpoint", ""},
		{"redirect with a Location", "", 302, voip.ErrNotFound, "redirected to https://other.gravitel.ru/: check the endpoint", "https://other.gravitel.ru/"},
		{"HTML with 200", "<html>login</html>", 200, voip.ErrBadResponse, "", ""},
		{"empty with 200", "", 200, voip.ErrBadResponse, "", ""},
		{"OK with 200 where JSON is due", "OK", 200, voip.ErrBadResponse, "", ""},
		{"403", `forbidden`, 403, voip.ErrForbidden, "forbidden", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, reply(tc.status, tc.body))
			if tc.location != "" {
				s = newStub(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, tc.location, tc.status) })
			}
			c, err := gravitel.New(s.endpoint(), pbxKey, gravitel.WithRetries(0, 1, 1),
				gravitel.WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}))
			require.NoError(t, err)
			_, err = c.Accounts(t.Context())
			require.ErrorIs(t, err, tc.kind)
			var apiErr *voip.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "gravitel", apiErr.Vendor)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.message, apiErr.Message)
		})
	}
}

func TestHistoryErrorIsBadResponse(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, "a,out,+7,admin,+7,2017-07-07T16:14:08+03:00,0,11,\nb,out,+7,admin,+7,yesterday,0,11,\n"))
	c, err := gravitel.New(s.endpoint(), pbxKey)
	require.NoError(t, err)
	_, err = c.History(t.Context(), gravitel.HistoryQuery{Period: gravitel.PeriodToday})
	require.ErrorIs(t, err, voip.ErrBadResponse)
	var herr *gravitel.HistoryError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, 2, herr.Line)
	assert.Equal(t, "start", herr.Field)
}

func TestMakeCallServerErrorIsAmbiguous(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusInternalServerError, "oops"))
	c, err := gravitel.New(s.endpoint(), pbxKey, fastRetries)
	require.NoError(t, err)
	_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "79101234567", User: "admin"})
	assert.ErrorIs(t, err, voip.ErrServer)
	assert.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.True(t, errors.Is(err, voip.ErrAmbiguous))
	assert.EqualValues(t, 1, s.hits.Load())
}
