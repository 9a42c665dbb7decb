package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/internal/testutil"
)

// TestLogLines: one Debug line per attempt with method, URL, status, attempt
// and duration, and a Warn line per retry.
func TestLogLines(t *testing.T) {
	t.Parallel()
	first := true
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if first {
			first = false
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	logs := &testutil.Logs{}
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Logger = logs.Logger()
	})
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "members"})
	require.NoError(t, err)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	require.Len(t, lines, 3, logs.String())
	assert.Equal(t, "DEBUG", lines[0]["level"])
	assert.Equal(t, "WARN", lines[1]["level"])
	assert.Equal(t, "gateway status", lines[1]["reason"])
	assert.EqualValues(t, http.StatusServiceUnavailable, lines[1]["status"])
	for _, i := range []int{0, 2} {
		l := lines[i]
		assert.Equal(t, "testvendor", l["vendor"])
		assert.Equal(t, "GET", l["method"])
		assert.Contains(t, l["url"], basePath+"members")
		assert.NotNil(t, l["duration"])
		assert.NotNil(t, l["status"])
	}
	assert.EqualValues(t, 1, lines[0]["attempt"])
	assert.EqualValues(t, 2, lines[2]["attempt"])
}

func TestSilentWithoutLogger(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := newClient(t, srv.URL)
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"})
	require.NoError(t, err)
	assert.NotNil(t, c.Logger())
}

// TestLimiterIsWaitedPerAttempt: a client-side limit spaces the attempts.
func TestLimiterIsWaitedPerAttempt(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(20*time.Millisecond), 1)
	})
	start := time.Now()
	for range 3 {
		_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"})
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "three requests at 50/s take two intervals")
}
