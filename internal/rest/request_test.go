package rest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestResolveKeepsThePathPrefix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base, path string
		query      url.Values
		want       string
	}{
		{"https://h/api", "calls", nil, "https://h/api/calls"},
		{"https://h/api/", "calls", nil, "https://h/api/calls"},
		{"https://h/api/", "/calls", nil, "https://h/api/calls"},
		{"https://h/api/", "calls/a%2Fb", nil, "https://h/api/calls/a%2Fb"},
		{"https://h/sys/crm_api.wcgp", "", url.Values{"cmd": {"accounts"}}, "https://h/sys/crm_api.wcgp?cmd=accounts"},
		{"https://h/api/?v=5", "calls", url.Values{"limit": {"50"}}, "https://h/api/calls?v=5&limit=50"},
		{"https://h/", "calls?x=1", url.Values{"y": {"2"}}, "https://h/calls?x=1&y=2"},
	}
	for _, tc := range cases {
		base, err := parseBase(tc.base)
		require.NoError(t, err)
		got, err := resolve(base, tc.path, tc.query)
		require.NoError(t, err, tc.path)
		assert.Equal(t, tc.want, got.String(), "%s + %s", tc.base, tc.path)
	}
}

// TestPlainPathResolvesLikeAReference: the shortcut for plain paths gives
// what resolving the reference gives, and takes no other path.
func TestPlainPathResolvesLikeAReference(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"calls", "calls/active/v3", "rest/calls/company.api", "call/start_simple_call", "a~b/c-d/...", ".x/y."} {
		assert.True(t, plainPath(p), p)
		assertResolvesLikeAReference(t, p)
	}
	for _, p := range []string{"", ".", "..", "a/./b", "a/../b", "a//b", "a/", "a b", "a%2Fb", "a:b", "a?b", "a#b", "a;b", "Иван"} {
		assert.False(t, plainPath(p), p)
	}
}

// assertResolvesLikeAReference checks resolve against resolveReference for
// path, on bases with and without a trailing slash and a query.
func assertResolvesLikeAReference(t *testing.T, path string) {
	t.Helper()
	for _, raw := range []string{"https://h", "https://h/", "https://h/api", "https://h/api/v1/", "https://u:p@h:8443/api/?v=5"} {
		base, err := parseBase(raw)
		require.NoError(t, err)
		want, err := resolveReference(base, path)
		require.NoError(t, err)
		got, err := resolve(base, path, nil)
		require.NoError(t, err)
		assert.Equal(t, want.String(), got.String(), "%s + %s", raw, path)
		assert.Equal(t, *want, *got, "%s + %s", raw, path)
	}
}

func TestResolveRefusesEscapes(t *testing.T) {
	t.Parallel()
	base, err := parseBase("https://h/api/")
	require.NoError(t, err)
	for _, p := range []string{"../admin", "a/../../b", "https://evil.example/x", "http://u:p@h/"} {
		_, err := resolve(base, p, nil)
		assert.ErrorIs(t, err, ErrPath, p)
	}
}

func TestParseBaseRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "ftp://h/", "/relative", "https://", "::"} {
		_, err := parseBase(raw)
		assert.Error(t, err, raw)
	}
}

func TestJSONDoesNotEscapeHTMLNorAddNewline(t *testing.T) {
	t.Parallel()
	b, err := JSON(map[string]string{"name": "<Иван & Co>"})
	require.NoError(t, err)
	assert.Equal(t, `{"name":"<Иван & Co>"}`, string(b))
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method string
		mode   Idempotency
		want   bool
	}{
		{http.MethodGet, ByMethod, true},
		{http.MethodHead, ByMethod, true},
		{http.MethodPut, ByMethod, true},
		{http.MethodDelete, ByMethod, true},
		{http.MethodPost, ByMethod, false},
		{http.MethodPatch, ByMethod, false},
		{http.MethodPost, Idempotent, true},
		{http.MethodGet, NotIdempotent, false},
	}
	for _, tc := range cases {
		r := &Request{Method: tc.method, Idempotency: tc.mode}
		assert.Equal(t, tc.want, r.idempotent(), "%s %d", tc.method, tc.mode)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	bad := []Config{
		{BaseURL: "https://h/"},
		{Vendor: "v", BaseURL: "nope"},
		{Vendor: "v", BaseURL: "https://h/", RetryWaitMin: -1},
		{Vendor: "v", BaseURL: "https://h/", RetryWaitMin: 2, RetryWaitMax: 1},
		{Vendor: "v", BaseURL: "https://h/", MaxBody: -1},
	}
	for _, cfg := range bad {
		_, err := New(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
	c, err := New(Config{Vendor: "v", BaseURL: "https://h/api"})
	require.NoError(t, err)
	assert.Equal(t, "v", c.Vendor())
	assert.Equal(t, "https://h/api", c.BaseURL().String())
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere++ }))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", status)
		}))
		t.Cleanup(srv.Close)
		c, err := New(Config{Vendor: "v", BaseURL: srv.URL + "/api/", HTTPClient: &http.Client{}})
		require.NoError(t, err)
		_, err = c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "x", Body: []byte(`{"token":"t"}`)})
		assert.ErrorIs(t, err, voip.ErrNotFound, "%d", status)
		assert.ErrorContains(t, err, other.URL+"/steal")
	}
	assert.Zero(t, elsewhere, "the body never went to the Location")
}
