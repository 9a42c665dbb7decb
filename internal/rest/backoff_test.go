package rest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffGrowsWithinBounds(t *testing.T) {
	t.Parallel()
	min, max := 100*time.Millisecond, 2*time.Second
	for attempt := range 40 {
		step := max
		if attempt < 4 {
			step = min << (attempt + 1) // 200 ms, 400 ms, 800 ms, 1.6 s
		}
		for range 50 {
			d := backoff(min, max, attempt, nil)
			assert.GreaterOrEqual(t, d, step/2, "attempt %d", attempt)
			assert.LessOrEqual(t, d, step, "attempt %d", attempt)
			assert.GreaterOrEqual(t, d, min, "never below minWait, as WithRetries says")
			assert.LessOrEqual(t, d, max, "never above maxWait")
		}
	}
	for range 50 {
		d := backoff(time.Second, time.Second, 0, nil)
		assert.Equal(t, time.Second, d, "min = max leaves no room for jitter")
	}
}

func TestBackoffHonoursRetryAfterButCapsIt(t *testing.T) {
	t.Parallel()
	min, max := 10*time.Millisecond, 5*time.Second
	resp := func(status int, ra string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {ra}}}
	}
	assert.Equal(t, 2*time.Second, backoff(min, max, 0, resp(http.StatusTooManyRequests, "2")))
	assert.Equal(t, max, backoff(min, max, 0, resp(http.StatusTooManyRequests, "3600")))
	assert.Equal(t, 3*time.Second, backoff(min, max, 0, resp(http.StatusServiceUnavailable, "3")))
	d := backoff(min, max, 0, resp(http.StatusBadGateway, "3"))
	assert.Less(t, d, time.Second, "Retry-After only counts on 429 and 503")
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		// Seconds past int64 and dates far ahead get the same cap as the
		// seconds below it.
		{"99999999999999999999", 24 * time.Hour, true},
		{"-99999999999999999999", 0, false},
		{"99999999999999999999s", 0, false},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), 24 * time.Hour, true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", 24 * time.Hour, true},
	}
	for _, tc := range cases {
		got, ok := retryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
