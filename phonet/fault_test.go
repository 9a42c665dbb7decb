package phonet_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
)

// faults are the server misbehaviours of the foundation's retry matrix.
var faults = map[string]http.HandlerFunc{
	"reset": testutil.ResetConnection,
	"500":   reply(http.StatusInternalServerError, "Internal Server Error"),
	"502":   reply(http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>"),
	"503":   reply(http.StatusServiceUnavailable, "Service Unavailable"),
	"504":   reply(http.StatusGatewayTimeout, "504 Gateway Timeout"),
	"429": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
	},
	"slow":      slowAfter(3 * time.Second), // past the client timeout
	"truncated": testutil.TruncatedJSON("{\"uuid\":"),
}

// slowAfter answers after d, or when the client gives up.
func slowAfter(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(d):
		}
		_, _ = w.Write([]byte(`{"uuid":"late"}`))
	}
}

// faultTimeout is the per-attempt timeout of the fault matrix: the slow
// fault answers after it.
const faultTimeout = 400 * time.Millisecond

// TestFaultMatrix sends MakeCall and a read into each fault and counts what
// reached the server: MakeCall is sent at most once (429 excepted, which
// Phonet did not process), a read is retried where the policy says so.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const attempts = 4 // the first try and three retries
	cases := map[string]struct {
		makeCallHits, readHits int32
		makeCallKind, readKind error
	}{
		"reset":     {1, attempts, voip.ErrAmbiguous, nil},
		"500":       {1, 1, voip.ErrServer, voip.ErrServer},
		"502":       {1, attempts, voip.ErrServer, voip.ErrServer},
		"503":       {1, attempts, voip.ErrServer, voip.ErrServer},
		"504":       {1, attempts, voip.ErrServer, voip.ErrServer},
		"429":       {attempts, attempts, voip.ErrRateLimited, voip.ErrRateLimited},
		"slow":      {1, attempts, voip.ErrAmbiguous, nil},
		"truncated": {1, attempts, voip.ErrAmbiguous, voip.ErrBadResponse}, // a 200 with a cut uuid: the call was placed
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Only the slow fault needs a short per-attempt timeout; the
			// others get a long one, so that a loaded machine cannot turn
			// them into timeouts.
			timeout := 5 * time.Second
			if name == "slow" {
				timeout = faultTimeout
			}
			s, c := newStubTimeout(t, faults[name], timeout)
			_, err := c.MakeCall(t.Context(), "001", "380931234567")
			require.Error(t, err)
			assert.Equal(t, want.makeCallHits, s.hits.Load(), "makeCall attempts")
			assert.ErrorIs(t, err, want.makeCallKind)
			if want.makeCallKind != voip.ErrRateLimited && name != "reset" && name != "slow" && name != "truncated" {
				// A 5xx after a POST may come after Phonet acted.
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			}

			s2, c2 := newStubTimeout(t, faults[name], timeout)
			_, err = c2.Users(t.Context())
			require.Error(t, err)
			switch name {
			case "reset":
				// net/http itself may repeat a GET on a reused connection
				// that was reset (the authorize call's), before the retry
				// layer sees it: at most once per attempt.
				assert.GreaterOrEqual(t, s2.hits.Load(), want.readHits, "read attempts")
				assert.LessOrEqual(t, s2.hits.Load(), 2*want.readHits, "read attempts")
			case "slow":
				// On a loaded machine an attempt may time out before the
				// server's handler counts it.
				assert.GreaterOrEqual(t, s2.hits.Load(), int32(2), "read attempts")
				assert.LessOrEqual(t, s2.hits.Load(), want.readHits, "read attempts")
			default:
				assert.Equal(t, want.readHits, s2.hits.Load(), "read attempts")
			}
			if want.readKind != nil {
				assert.ErrorIs(t, err, want.readKind)
			}
			assert.NotErrorIs(t, err, voip.ErrAmbiguous)
		})
	}
}
