package webitel_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

func TestNewBaseURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"https://cloud.webitel.com", "https://cloud.webitel.com/", "https://cloud.webitel.com/api", "https://cloud.webitel.com/api/", " https://cloud.webitel.com/api// "} {
		c, err := webitel.New(raw, restToken)
		require.NoError(t, err, raw)
		assert.Equal(t, "https://cloud.webitel.com", c.BaseURL(), raw)
	}
	c, err := webitel.New("https://h.example/tenant/api/", restToken)
	require.NoError(t, err)
	assert.Equal(t, "https://h.example/tenant", c.BaseURL())
	for _, raw := range []string{"", "cloud.webitel.com", "ftp://h", "https://h?x=1", "https://u:p@h"} {
		_, err := webitel.New(raw, restToken)
		assert.Error(t, err, raw)
	}
	_, err = webitel.New("https://h", " ")
	assert.Error(t, err)
	_, err = webitel.New("https://h", restToken, webitel.WithHTTPClient(nil))
	assert.Error(t, err)
	_, err = webitel.New("https://h", restToken, webitel.WithRetries(-1, 0, 0))
	assert.Error(t, err)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"GET /api/userinfo": restOK(`{"dc":"1","domain":"demo","user_id":"7","name":"Іван","username":"ivan","extension":"101"}`),
	}.handler)
	require.NoError(t, c.TestConnection(t.Context()))
	info, err := c.UserInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, webitel.UserInfo{UserID: "7", DomainID: "1", Domain: "demo", Name: "Іван", Username: "ivan", Extension: "101"}, *info)
	req := s.requests()[0]
	assert.Equal(t, restToken, req.Header.Get("X-Webitel-Access"), "the token goes in the header")
	assert.NotContains(t, req.RawQuery, restToken)
}

func TestTestConnectionRefused(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{
		"GET /api/userinfo": {http.StatusUnauthorized, `{"id":"api.context.unauthorized","code":401,"detail":"token not found","status":"Unauthorized"}`},
	}.handler)
	err := c.TestConnection(t.Context())
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	var api *voip.APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, "api.context.unauthorized", api.Code)
	assert.Equal(t, "token not found", api.Message)
	assert.Equal(t, 401, api.StatusCode)
}

func TestTestConnectionHTMLPage(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	})
	require.ErrorIs(t, c.TestConnection(t.Context()), voip.ErrBadResponse)
}
