package webitel_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// loginServer answers POST /api/login with body and records the request.
func loginServer(t *testing.T, status int, body string) (*httptest.Server, *map[string]string) {
	t.Helper()
	got := map[string]string{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/login" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		restJSON(w, status, body)
	}))
	t.Cleanup(s.Close)
	return s, &got
}

func TestLoginTopLevelToken(t *testing.T) {
	t.Parallel()
	s, got := loginServer(t, 200, `{"access_token":"sess-1","token_type":"bearer","expires_in":0}`)
	tok, err := webitel.Login(t.Context(), s.URL+"/api/", "demo", "ivan", "secret-pass", restFast)
	require.NoError(t, err)
	assert.Equal(t, "sess-1", tok)
	assert.Equal(t, map[string]string{"domain": "demo", "username": "ivan", "password": "secret-pass"}, *got)
}

func TestLoginAuthorizationToken(t *testing.T) {
	t.Parallel()
	s, _ := loginServer(t, 200, `{"authorization":{"access_token":"sess-2","token_type":"bearer"}}`)
	tok, err := webitel.Login(t.Context(), s.URL, "demo", "ivan", "secret-pass")
	require.NoError(t, err)
	assert.Equal(t, "sess-2", tok)
}

func TestLoginTwoFactor(t *testing.T) {
	t.Parallel()
	s, _ := loginServer(t, 200, `{"id":"2fa-session-0123456789"}`)
	tok, err := webitel.Login(t.Context(), s.URL, "demo", "ivan", "secret-pass")
	require.Error(t, err)
	assert.Empty(t, tok)
	assert.ErrorIs(t, err, webitel.ErrTwoFactor)
	assert.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "2fa-session-0123456789")
}

func TestLoginNoToken(t *testing.T) {
	t.Parallel()
	s, _ := loginServer(t, 200, `{"token_type":"bearer"}`)
	tok, err := webitel.Login(t.Context(), s.URL, "demo", "ivan", "secret-pass")
	require.ErrorIs(t, err, voip.ErrBadResponse)
	assert.Empty(t, tok)
}

func TestLoginRefused(t *testing.T) {
	t.Parallel()
	s, _ := loginServer(t, 401, `{"id":"app.user.login.invalid","code":401,"detail":"wrong password secret-pass","status":"Unauthorized"}`)
	_, err := webitel.Login(t.Context(), s.URL, "demo", "ivan", "secret-pass")
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "secret-pass")
}

func TestLoginArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][3]string{{"", "u", "p"}, {"d", "", "p"}, {"d", "u", ""}} {
		_, err := webitel.Login(t.Context(), "https://h", args[0], args[1], args[2])
		var arg *voip.ArgError
		require.ErrorAs(t, err, &arg, "%q", args)
	}
	_, err := webitel.Login(t.Context(), "nope", "d", "u", "p")
	require.Error(t, err)
}
