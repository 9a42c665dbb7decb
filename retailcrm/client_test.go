package retailcrm_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
)

// TestBaseURLForms checks that the account's URL is taken with or without
// /api/v5 and a trailing slash, and that requests land under /api/v5.
func TestBaseURLForms(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"links":{}}`))
	for _, base := range []string{s.URL, s.URL + "/", s.URL + "/api/v5", s.URL + "/api/v5/", s.URL + "/api", " " + s.URL + "//", s.URL + "/?apiKey=" + apiKey} {
		c, err := retailcrm.New(base, apiKey, noLimit)
		require.NoError(t, err, base)
		_, err = c.ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "88005553125"})
		require.NoError(t, err, base)
	}
	for _, r := range s.requests() {
		assert.Equal(t, "/api/v5/telephony/manager", r.Path)
		assert.NotContains(t, r.RawQuery, "apiKey")
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		base, key string
		opts      []retailcrm.Option
	}{
		"no scheme":        {base: "example.retailcrm.ru", key: apiKey},
		"ftp":              {base: "ftp://example.retailcrm.ru", key: apiKey},
		"no host":          {base: "https://", key: apiKey},
		"other version":    {base: "https://example.retailcrm.ru/api/v4", key: apiKey},
		"empty key":        {base: "https://example.retailcrm.ru", key: " "},
		"nil HTTP client":  {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithHTTPClient(nil)}},
		"nil location":     {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithLocation(nil)}},
		"negative retries": {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithRetries(-1, time.Second, time.Second)}},
		"waits inverted":   {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithRetries(1, time.Second, time.Millisecond)}},
		"zero rate":        {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithRateLimit(0, 40)}},
		"NaN rate":         {base: "https://x.retailcrm.ru", key: apiKey, opts: []retailcrm.Option{retailcrm.WithRateLimit(10, math.NaN())}},
	} {
		_, err := retailcrm.New(tc.base, tc.key, tc.opts...)
		assert.Error(t, err, name)
	}
	_, err := retailcrm.New("https://x.retailcrm.ru", apiKey, nil, retailcrm.WithLogger(nil))
	assert.NoError(t, err, "nil options and a nil logger are fine")
}

// TestKeyOnlyInHeader checks that the key travels in X-API-KEY and nowhere
// else, on GETs and POSTs.
func TestKeyOnlyInHeader(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, ok))
	c := s.client(t)
	_, err := c.ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "88005553125"})
	require.NoError(t, err)
	_, err = c.SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "88005553125", Type: retailcrm.EventIn, Codes: []string{"101"}})
	require.NoError(t, err)
	reqs := s.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, apiKey, r.Header.Get("X-API-KEY"))
		assert.NotContains(t, r.RawQuery, apiKey)
		assert.NotContains(t, r.Body, apiKey)
		assert.NotContains(t, strings.ToLower(r.RawQuery), "apikey")
	}
}

// TestRateLimitGeneral measures the default limit of the general paths: 12
// requests at 10 per second with a burst of 2 take at least a second; 0.9
// s leaves room for the clock.
func TestRateLimitGeneral(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"integrationModule":{"code":"acme"}}`))
	c, err := retailcrm.New(s.URL, apiKey)
	require.NoError(t, err)
	start := time.Now()
	for range 12 {
		_, err := c.IntegrationModule(t.Context(), "acme")
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

// TestRateLimitWaitEndsWithContext checks that a request waiting for its
// turn gives up with its context.
func TestRateLimitWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"integrationModule":{"code":"acme"}}`))
	c, err := retailcrm.New(s.URL, apiKey, retailcrm.WithRateLimit(0.01, 40))
	require.NoError(t, err)
	_, err = c.IntegrationModule(t.Context(), "acme") // the burst's one token
	require.NoError(t, err)
	ctx, cancel := contextWithTimeout(t, 20*time.Millisecond)
	defer cancel()
	_, err = c.IntegrationModule(ctx, "acme")
	require.Error(t, err)
	assert.EqualValues(t, 1, s.hits.Load(), "the second request never left")
	// The telephony bucket is another one.
	_, err = c.ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "1"})
	require.NoError(t, err)
	assert.EqualValues(t, 2, s.hits.Load())
}
