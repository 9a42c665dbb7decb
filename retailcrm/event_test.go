package retailcrm_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

const rateLimited = `{"success":false,"errorMsg":"Rate limit exceeded"}`

func TestSendCallEvent(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"notExistCodes":["999"],"notExistUsers":[42,"43"]}`))
	res, err := s.client(t).SendCallEvent(t.Context(), retailcrm.CallEvent{
		Phone: "+7-555-555-55-55", Type: retailcrm.EventHangup, Codes: []string{"100", "999"}, UserIDs: []int64{27},
		Site: "aliexpress", CallExternalID: "pbx-call-0001", ExternalPhone: "+7-444-444-44-44", HangupStatus: retailcrm.HangupNoAnswer,
	})
	require.NoError(t, err)
	assert.Equal(t, &retailcrm.EventResult{NotExistCodes: []string{"999"}, NotExistUsers: []int64{42, 43}}, res)
	r := s.requests()[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v5/telephony/call/event", r.Path)
	var got map[string]any
	formJSON(t, r, "event", &got)
	assert.Equal(t, map[string]any{
		"phone": "+7-555-555-55-55", "type": "hangup", "codes": []any{"100", "999"}, "userIds": []any{float64(27)},
		"site": "aliexpress", "callExternalId": "pbx-call-0001", "externalPhone": "+7-444-444-44-44", "hangupStatus": "no answered",
	}, got)

	// The seed article's event: only what is set is sent.
	s2 := newStub(t, reply(http.StatusOK, ok))
	_, err = s2.client(t).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "+7-555-555-55-55", Type: retailcrm.EventIn,
		Codes: []string{"100"}, ExternalPhone: "+7-444-444-44-44"})
	require.NoError(t, err)
	assert.Equal(t, "event=%7B%22phone%22%3A%22%2B7-555-555-55-55%22%2C%22type%22%3A%22in%22%2C%22codes%22%3A%5B%22100%22%5D%2C%22externalPhone%22%3A%22%2B7-444-444-44-44%22%7D",
		s2.requests()[0].Body)
}

func TestSendCallEventRefusesArguments(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, ok))
	c := s.client(t)
	for name, ev := range map[string]retailcrm.CallEvent{
		"no phone":             {Type: retailcrm.EventIn},
		"no type":              {Phone: "1"},
		"unknown type":         {Phone: "1", Type: "ringing"},
		"status on a start":    {Phone: "1", Type: retailcrm.EventIn, HangupStatus: retailcrm.HangupBusy},
		"upload's spelling":    {Phone: "1", Type: retailcrm.EventHangup, HangupStatus: "no answer"},
		"unknown hangupStatus": {Phone: "1", Type: retailcrm.EventHangup, HangupStatus: "gone"},
	} {
		_, err := c.SendCallEvent(t.Context(), ev)
		var arg *voip.ArgError
		assert.ErrorAs(t, err, &arg, name)
	}
	assert.Zero(t, s.hits.Load())
}

// TestSendCallEventRateLimit checks that a rate-limit 503 is waited out and
// the event sent again, the only failure after which it is.
func TestSendCallEventRateLimit(t *testing.T) {
	t.Parallel()
	s := newStub(t, sequence(reply(http.StatusServiceUnavailable, rateLimited), reply(http.StatusServiceUnavailable, rateLimited), reply(http.StatusOK, ok)))
	_, err := s.client(t).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
	require.NoError(t, err)
	assert.EqualValues(t, 3, s.hits.Load())

	// Refused every time: rate limited, not ambiguous, after the retries.
	s = newStub(t, reply(http.StatusServiceUnavailable, rateLimited))
	_, err = s.client(t).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
	require.ErrorIs(t, err, voip.ErrRateLimited)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	assert.EqualValues(t, 4, s.hits.Load())

	// With retries off it is sent once.
	s = newStub(t, reply(http.StatusServiceUnavailable, rateLimited))
	_, err = s.client(t, retailcrm.WithRetries(0, time.Millisecond, time.Millisecond)).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
	require.ErrorIs(t, err, voip.ErrRateLimited)
	assert.EqualValues(t, 1, s.hits.Load())

	// Another 503 is not a refusal: the event may have been shown.
	s = newStub(t, reply(http.StatusServiceUnavailable, "<html>503 Service Temporarily Unavailable</html>"))
	_, err = s.client(t).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
	require.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.EqualValues(t, 1, s.hits.Load())
}

// TestSendCallEventRateLimitWaitEndsWithContext checks that the wait for a
// resend ends with ctx.
func TestSendCallEventRateLimitWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		reply(http.StatusServiceUnavailable, rateLimited)(w, r)
	})
	ctx, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	_, err := s.client(t, retailcrm.WithRetries(3, time.Millisecond, time.Hour)).SendCallEvent(ctx, retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
	require.ErrorIs(t, err, ctx.Err())
	assert.EqualValues(t, 1, s.hits.Load())
}
