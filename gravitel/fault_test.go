package gravitel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
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
	"slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond): // past the client timeout
		}
		_, _ = w.Write([]byte(`{"uuid":"late"}`))
	},
	"truncated": testutil.TruncatedJSON("{\"uuid\":"),
}

// TestFaultMatrix sends MakeCall and a read into each fault and counts what
// reached the PBX: MakeCall is sent at most once, a read is retried where
// the foundation's policy says so.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const attempts = 4 // the first try and three retries
	wantReadHits := map[string]int32{"reset": attempts, "500": 1, "502": attempts, "503": attempts, "504": attempts,
		"429": attempts, "slow": attempts, "truncated": attempts}
	for name, h := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Only the slow fault needs a short per-attempt timeout; a long one
			// elsewhere keeps a loaded machine from turning faults into timeouts.
			perAttempt := 10 * time.Second
			if name == "slow" {
				perAttempt = 100 * time.Millisecond
			}
			client := gravitel.WithHTTPClient(&http.Client{Timeout: perAttempt})

			call := newStub(t, h)
			c, err := gravitel.New(call.endpoint(), pbxKey, fastRetries, client)
			require.NoError(t, err)
			_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "79101234567", User: "admin"})
			require.Error(t, err)
			switch name {
			case "429":
				// A throttled request was not processed, so it is retried.
				assert.EqualValues(t, attempts, call.hits.Load())
				assert.ErrorIs(t, err, voip.ErrRateLimited)
			case "truncated":
				// The PBX answered 200: the call was placed, its id lost,
				// so it must not be placed again.
				assert.EqualValues(t, 1, call.hits.Load())
				assert.ErrorIs(t, err, voip.ErrBadResponse)
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			case "slow":
				// Timed out: at most once, and maybe before the server
				// counted it.
				assert.LessOrEqual(t, call.hits.Load(), int32(1), "MakeCall must be sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			default:
				assert.EqualValues(t, 1, call.hits.Load(), "MakeCall must be sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			}

			read := newStub(t, h)
			c, err = gravitel.New(read.endpoint(), pbxKey, fastRetries, client)
			require.NoError(t, err)
			_, err = c.Accounts(t.Context())
			require.Error(t, err)
			assert.NotErrorIs(t, err, voip.ErrAmbiguous)
			if name == "slow" {
				// An attempt may time out before the server counts it.
				assert.GreaterOrEqual(t, read.hits.Load(), int32(2), "a slow read is retried")
				assert.LessOrEqual(t, read.hits.Load(), wantReadHits[name])
			} else {
				assert.Equal(t, wantReadHits[name], read.hits.Load())
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	srv.Fail("accounts", http.StatusServiceUnavailable, "Service Unavailable")
	srv.Fail("accounts", http.StatusBadGateway, "Bad Gateway")
	got, err := c.Accounts(t.Context())
	require.NoError(t, err)
	assert.Len(t, got, 3)
	assert.Len(t, srv.Requests(), 3)
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	s := newStub(t, faults["slow"])
	c, err := gravitel.New(s.endpoint(), pbxKey)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Accounts(ctx)
	assert.ErrorIs(t, err, ctx.Err())
}
