package newtel_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

// faults are the server misbehaviours of the foundation's retry matrix.
var faults = map[string]http.HandlerFunc{
	"reset": testutil.ResetConnection,
	"500":   reply(http.StatusInternalServerError, `{"status":"error","message":"Internal error"}`),
	"502":   reply(http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>"),
	"503":   reply(http.StatusServiceUnavailable, "Service Unavailable"),
	"504":   reply(http.StatusGatewayTimeout, "504 Gateway Timeout"),
	"429": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":"error","message":"Too many requests"}`))
	},
	"slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond): // past the client timeout
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"result":"success"}}`))
	},
	"truncated": testutil.TruncatedJSON("{\"status\":"),
}

// TestFaultMatrix sends StartSimpleCall and CompanyState into each fault and
// counts what reached the server: the call is sent at most once, the read
// is retried where the foundation's policy says so.
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
			timeout := newtel.WithHTTPClient(&http.Client{Timeout: perAttempt})

			call := newStub(t, h)
			_, err := call.client(t, timeout).StartSimpleCall(t.Context(), newtel.SimpleCallRequest{SrcNumber: "100", DstNumber: "79161234567"})
			require.Error(t, err)
			switch name {
			case "429":
				// A throttled request was not processed, so it is retried.
				assert.EqualValues(t, attempts, call.hits.Load())
				assert.ErrorIs(t, err, voip.ErrRateLimited)
			case "truncated":
				// New-Tel answered 200: the call was placed, its answer lost.
				assert.EqualValues(t, 1, call.hits.Load())
				assert.ErrorIs(t, err, voip.ErrBadResponse)
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			case "slow":
				// Timed out: at most once, and maybe before the server
				// counted it.
				assert.LessOrEqual(t, call.hits.Load(), int32(1), "StartSimpleCall must be sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			default:
				assert.EqualValues(t, 1, call.hits.Load(), "StartSimpleCall must be sent at most once")
				assert.ErrorIs(t, err, voip.ErrAmbiguous)
			}

			read := newStub(t, h)
			_, err = read.client(t, timeout, ticking()).CompanyState(t.Context())
			require.Error(t, err)
			assert.NotErrorIs(t, err, voip.ErrAmbiguous)
			if name == "slow" {
				// An attempt may time out before the server counts it.
				assert.GreaterOrEqual(t, read.hits.Load(), int32(2), "a slow read is retried")
				assert.LessOrEqual(t, read.hits.Load(), wantReadHits[name])
			} else {
				assert.Equal(t, wantReadHits[name], read.hits.Load())
			}
			auths, _ := read.requests()
			if len(auths) > 1 {
				for i := 1; i < len(auths); i++ {
					assert.NotEqual(t, auths[i-1], auths[i], "every attempt is signed anew")
				}
			}
		})
	}
}

// ticking is a clock a second later at each read, as if retries waited
// that long: tokens then differ between attempts.
func ticking() newtel.Option {
	var tick atomic.Int64
	start := time.Now()
	return newtel.WithClock(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) })
}

// TestRetryIsResigned fails get-state twice and checks that each of the
// three attempts carried its own token, with the time of its own attempt.
func TestRetryIsResigned(t *testing.T) {
	t.Parallel()
	var tick atomic.Int64
	start := time.Now()
	// Each read of the clock is a second later, as if the retries waited.
	clock := newtel.WithClock(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) })
	srv, c := newEmulator(t, clock)
	srv.Fail(newtel.MethodCompanyState, http.StatusServiceUnavailable, "Service Unavailable")
	srv.Fail(newtel.MethodCompanyState, http.StatusBadGateway, "Bad Gateway")
	_, err := c.CompanyState(t.Context())
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		want := "Bearer " + golden(newtel.MethodCompanyState, unix(start.Add(time.Duration(i+1)*time.Second)), accessKey, "{}", signKey)
		assert.Equal(t, want, r.Authorization, "attempt %d", i+1)
	}
	assert.EqualValues(t, 3, tick.Load(), "the clock is read once per attempt")
}

// TestStartCallsAreNotRetried checks each call-starting method against a
// 503: one request, and an ambiguous error.
func TestStartCallsAreNotRetried(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	starts := map[string]func(c *newtel.Client) error{
		"password": func(c *newtel.Client) error {
			_, err := c.StartPasswordCall(ctx, newtel.PasswordCallRequest{DstNumber: "79161234567"})
			return err
		},
		"voice": func(c *newtel.Client) error {
			_, err := c.StartVoicePasswordCall(ctx, newtel.VoicePasswordCallRequest{DstNumber: "79161234567", Text: "1234"})
			return err
		},
		"inbound": func(c *newtel.Client) error {
			_, err := c.StartInboundCallWaiting(ctx, newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: "https://x/"})
			return err
		},
		"busy": func(c *newtel.Client) error {
			_, err := c.StartWaitingModeBusy(ctx, newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: "https://x/"})
			return err
		},
		"generic": func(c *newtel.Client) error {
			return c.Call(ctx, "call/start-password-call", map[string]any{"dstNumber": "79161234567"}, nil)
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, faults["503"])
			err := start(s.client(t))
			require.ErrorIs(t, err, voip.ErrAmbiguous)
			assert.EqualValues(t, 1, s.hits.Load())
		})
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	s := newStub(t, faults["slow"])
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := s.client(t).CompanyState(ctx)
	assert.ErrorIs(t, err, ctx.Err())
}
