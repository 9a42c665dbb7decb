package voip_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestAPIErrorClassesFromStatus(t *testing.T) {
	t.Parallel()
	cases := map[int]error{
		400: voip.ErrBadRequest, 422: voip.ErrBadRequest, 401: voip.ErrUnauthorized, 403: voip.ErrForbidden,
		404: voip.ErrNotFound, 409: voip.ErrConflict, 429: voip.ErrRateLimited, 500: voip.ErrServer,
		501: voip.ErrNotSupported, 502: voip.ErrServer, 418: voip.ErrBadRequest,
	}
	for status, want := range cases {
		err := error(&voip.APIError{Vendor: "v", StatusCode: status})
		assert.ErrorIs(t, err, want, "%d", status)
	}
	assert.NoError(t, voip.StatusKind(http.StatusOK))
}

func TestAPIErrorKindOverridesStatus(t *testing.T) {
	t.Parallel()
	// Gravitel answers a bad token with HTTP 200 and {"error":"Invalid token"}.
	err := error(&voip.APIError{Vendor: "gravitel", StatusCode: 200, Message: "Invalid token", Kind: voip.ErrUnauthorized})
	assert.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.NotErrorIs(t, err, voip.ErrServer)
}

func TestAPIErrorUnwrapsItsCause(t *testing.T) {
	t.Parallel()
	var syntax *json.SyntaxError
	cause := json.Unmarshal([]byte("<html>"), &struct{}{})
	require.ErrorAs(t, cause, &syntax)
	err := error(&voip.APIError{Vendor: "v", StatusCode: 200, Kind: voip.ErrBadResponse, Err: cause})
	assert.ErrorIs(t, err, voip.ErrBadResponse)
	assert.ErrorAs(t, err, &syntax)
	var apiErr *voip.APIError
	require.ErrorAs(t, errors.Join(errors.New("ctx"), err), &apiErr)
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  *voip.APIError
		want string
	}{
		{&voip.APIError{Vendor: "gravitel", Method: "POST", URL: "https://t.gravitel.ru/sys/crm_api.wcgp", StatusCode: 401, Message: "Invalid token"},
			"gravitel: POST https://t.gravitel.ru/sys/crm_api.wcgp: 401 Unauthorized: Invalid token"},
		{&voip.APIError{Vendor: "newtel", StatusCode: 200, Code: "E42", Message: "no money", Kind: voip.ErrBadRequest},
			"newtel: 200 OK: no money (code E42)"},
		{&voip.APIError{Vendor: "phonet", StatusCode: 503},
			"phonet: 503 Service Unavailable: server error"},
		{&voip.APIError{Vendor: "phonet", Err: errors.New("dial tcp: refused")},
			"phonet: dial tcp: refused"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.err.Error())
	}
}

func TestAPIErrorAmbiguous(t *testing.T) {
	t.Parallel()
	err := error(&voip.APIError{Vendor: "gravitel", StatusCode: 502, Ambiguous: true})
	assert.ErrorIs(t, err, voip.ErrServer)
	assert.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.Contains(t, err.Error(), "not repeated")
	assert.NotErrorIs(t, &voip.APIError{Vendor: "gravitel", StatusCode: 502}, voip.ErrAmbiguous)
}

func TestArgError(t *testing.T) {
	t.Parallel()
	_, cause := voip.NormalizePhone("+7 abc", "RU")
	err := error(&voip.ArgError{Vendor: "gravitel", Func: "GenerateCall", Arg: "phone", Err: cause})
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	assert.NotErrorIs(t, err, voip.ErrUnreachable)
	assert.Equal(t, `gravitel: GenerateCall: phone: `+cause.Error(), err.Error())
	var argErr *voip.ArgError
	require.ErrorAs(t, err, &argErr)
	assert.Equal(t, "phone", argErr.Arg)

	empty := error(&voip.ArgError{Vendor: "phonet", Func: "Subscribe", Arg: "subscriber", Err: errors.New("empty")})
	assert.Equal(t, "phonet: Subscribe: subscriber: empty", empty.Error())
	assert.NotErrorIs(t, empty, voip.ErrInvalidPhone)
	assert.Equal(t, "invalid argument", (&voip.ArgError{}).Error())
	assert.ErrorIs(t, &voip.ArgError{}, voip.ErrBadRequest)
}

func TestUnreachableIsAClass(t *testing.T) {
	t.Parallel()
	err := error(&voip.APIError{Vendor: "gravitel", Kind: voip.ErrUnreachable, Err: errors.New("dial tcp: connection refused")})
	assert.ErrorIs(t, err, voip.ErrUnreachable)
	assert.NotErrorIs(t, err, voip.ErrServer)
	assert.Equal(t, "gravitel: dial tcp: connection refused", err.Error())
}
