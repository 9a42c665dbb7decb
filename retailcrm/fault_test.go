package retailcrm_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// faults are the server misbehaviours of the foundation's retry matrix, in
// retailCRM's words where it has some.
var faults = map[string]http.HandlerFunc{
	"reset":     testutil.ResetConnection,
	"500":       reply(http.StatusInternalServerError, `{"success":false,"errorMsg":"Internal error"}`),
	"502":       reply(http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>"),
	"503":       reply(http.StatusServiceUnavailable, "<html><body>503 Service Temporarily Unavailable</body></html>"),
	"503 limit": reply(http.StatusServiceUnavailable, rateLimited),
	"504":       reply(http.StatusGatewayTimeout, "504 Gateway Timeout"),
	"429":       reply(http.StatusTooManyRequests, `{"success":false,"errorMsg":"Too many requests"}`),
	"slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond): // past the client timeout
		}
		reply(http.StatusOK, ok)(w, r)
	},
	"truncated": testutil.TruncatedJSON("{\"success\":"),
}

// TestFaultMatrix sends SendCallEvent and UploadCalls into each fault and
// counts what reached the server: the event at most once but after a rate
// limit, the upload again wherever the policy retries a read.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const attempts = 4 // the first try and three retries
	wantUploadHits := map[string]int32{"reset": attempts, "500": 1, "502": attempts, "503": attempts, "503 limit": attempts,
		"504": attempts, "429": attempts, "slow": attempts, "truncated": attempts}
	for name, h := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			perAttempt := 10 * time.Second
			if name == "slow" {
				perAttempt = 100 * time.Millisecond
			}
			timeout := retailcrm.WithHTTPClient(&http.Client{Timeout: perAttempt})

			event := newStub(t, h)
			_, err := event.client(t, timeout).SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "+79121234567", Type: retailcrm.EventIn, Codes: []string{"101"}})
			require.Error(t, err)
			switch name {
			case "429", "503 limit":
				// Refused for the rate limit, so not processed: sent again.
				assert.EqualValues(t, attempts, event.hits.Load())
				assert.ErrorIs(t, err, voip.ErrRateLimited)
				assert.NotErrorIs(t, err, voip.ErrAmbiguous)
			case "slow":
				assert.LessOrEqual(t, event.hits.Load(), int32(1), "an event is sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			default:
				assert.EqualValues(t, 1, event.hits.Load(), "an event is sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			}

			upload := newStub(t, h)
			_, err = upload.client(t, timeout).UploadCalls(t.Context(), records(3))
			var ue *retailcrm.UploadError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, []int{0, 1, 2}, ue.Failed)
			assert.NotErrorIs(t, err, voip.ErrAmbiguous, "an upload can always be sent again")
			if name == "slow" {
				assert.GreaterOrEqual(t, upload.hits.Load(), int32(2), "a slow upload is retried")
				assert.LessOrEqual(t, upload.hits.Load(), wantUploadHits[name])
			} else {
				assert.Equal(t, wantUploadHits[name], upload.hits.Load())
			}
			for _, r := range upload.requests() {
				assert.Equal(t, upload.requests()[0].Body, r.Body, "the same calls every time")
			}
		})
	}
}

// TestUploadRetriedThenStored fails an upload twice on the way and checks
// that the calls are stored once.
func TestUploadRetriedThenStored(t *testing.T) {
	t.Parallel()
	crm := &historyCRM{stored: map[string]bool{}}
	s := newStub(t, sequence(faults["reset"], reply(http.StatusServiceUnavailable, rateLimited), crm.ServeHTTP))
	res, err := s.client(t).UploadCalls(t.Context(), records(10))
	require.NoError(t, err)
	assert.Equal(t, 10, res.Processed)
	assert.EqualValues(t, 3, s.hits.Load())
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	s := newStub(t, faults["slow"])
	ctx, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	_, err := s.client(t).ResponsibleManager(ctx, retailcrm.ManagerQuery{Phone: "1"})
	assert.ErrorIs(t, err, ctx.Err())
}
