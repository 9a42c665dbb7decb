package newtel_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

// The example keys of the seed article (a public sample, not an account's)
// and the body its PHP code signs for call/start_simple_call.
const (
	seedAccessKey = "616a2cbbc392c798c06161dae2bd0c2093af4f399e95f48d"
	seedSignKey   = "84c29e3807ccb092f50ea7e66537ba9b519628efdd741046"
	seedBody      = `{"callerId":"74951112233","dstNumber":"79041112233","srcNumber":"79991112233","timeout":30}`
)

// golden computes a token independently: SHA-256 over the literal string.
func golden(method, unix, access, body, sign string) string {
	sum := sha256.Sum256([]byte(method + "\n" + unix + "\n" + access + "\n" + body + "\n" + sign))
	return access + unix + hex.EncodeToString(sum[:])
}

func TestSignGolden(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000000, 0)
	cases := []struct {
		name, method, body, access, sign string
	}{
		{"seed start_simple_call", "call/start_simple_call", seedBody, seedAccessKey, seedSignKey},
		{"seed widget config", "webrtc/get-widget-config", `{"internalNumber":100}`, seedAccessKey, seedSignKey},
		{"get-state empty body", "company/get-state", "", accessKey, signKey},
		{"get-state {}", "company/get-state", "{}", accessKey, signKey},
		{"php escaping kept", "call-password/start-password-call", `{"dstNumber":"+79081234567","async":"0","pin":"11234","timeout":"30","callbackLink":"https:\/\/x\/?a=\u0439"}`, accessKey, signKey},
		{"long body", "call-password/start-voice-password-call", `{"text":"` + string(make([]byte, 2000)) + `"}`, accessKey, signKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := golden(tc.method, "1700000000", tc.access, tc.body, tc.sign)
			got := newtel.Sign(tc.method, []byte(tc.body), at, tc.access, tc.sign)
			assert.Equal(t, want, got)
			assert.Len(t, got, 122, "48 + 10 + 64")
			assert.Equal(t, "1700000000", got[48:58])
			assert.NoError(t, newtel.VerifySignature(tc.method, []byte(tc.body), got, tc.access, tc.sign))
		})
	}
	// The time is read from t alone, in seconds: a fraction does not change it.
	assert.Equal(t, newtel.Sign("m", nil, at, "a", "s"), newtel.Sign("m", nil, at.Add(999*time.Millisecond), "a", "s"))
}

// TestClientSignsTheSeedRequest sends the seed article's call through the
// client and checks the exact body and token that reach the server.
func TestClientSignsTheSeedRequest(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"status":"success","data":{"result":"success","callDetails":{"callId":"1"}}}`))
	at := time.Unix(1700000000, 0)
	c, err := newtel.New(seedAccessKey, seedSignKey, newtel.WithBaseURL(s.URL+"/"), newtel.WithClock(func() time.Time { return at }))
	require.NoError(t, err)
	_, err = c.StartSimpleCall(t.Context(), newtel.SimpleCallRequest{CallerID: "+7 (495) 111-22-33", DstNumber: "+7 (904) 111-22-33", SrcNumber: "+7 (999) 111-22-33", Timeout: 30})
	require.NoError(t, err)
	auths, bodies := s.requests()
	require.Len(t, bodies, 1)
	assert.Equal(t, seedBody, bodies[0])
	assert.Equal(t, "Bearer "+golden("call/start_simple_call", "1700000000", seedAccessKey, seedBody, seedSignKey), auths[0])
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"status":"success","data":{"result":"success"}}`)
	good := golden("company/get-state", "1700000000", accessKey, string(body), signKey)
	require.NoError(t, newtel.VerifySignature("company/get-state", body, good, accessKey, signKey))
	require.NoError(t, newtel.VerifySignature("company/get-state", body, " Bearer "+good+"\r\n", accessKey, signKey), "Bearer prefix and spaces")
	upper := good[:58] + upperHex(good[58:])
	require.NoError(t, newtel.VerifySignature("company/get-state", body, upper, accessKey, signKey), "upper-case hex")

	bad := map[string]string{
		"empty":           "",
		"tampered body":   golden("company/get-state", "1700000000", accessKey, string(body)+" ", signKey),
		"other method":    golden("company/get-state2", "1700000000", accessKey, string(body), signKey),
		"other key":       golden("company/get-state", "1700000000", accessKey, string(body), accessKey),
		"no access key":   good[48:],
		"digest only":     good[58:],
		"letters in time": accessKey + "17000x0000" + good[58:],
		"not hex":         good[:58] + "zz" + good[60:],
	}
	for name, sig := range bad {
		err := newtel.VerifySignature("company/get-state", body, sig, accessKey, signKey)
		require.ErrorIs(t, err, newtel.ErrBadSignature, name)
		assert.NotContains(t, err.Error(), good[58:], "never quotes the digest")
		assert.NotContains(t, err.Error(), signKey)
	}
}

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestEmulatorRejectsBadTokens: a wrong key, a body changed after signing and
// a stale time are all refused by the emulator, and the client reports them
// as ErrUnauthorized.
func TestEmulatorRejectsBadTokens(t *testing.T) {
	t.Parallel()
	t.Run("wrong sign key", func(t *testing.T) {
		t.Parallel()
		srv, _ := newEmulator(t)
		c, err := newtel.New(accessKey, signKey[:47]+"0", newtel.WithBaseURL(srv.BaseURL()))
		require.NoError(t, err)
		_, err = c.CompanyState(t.Context())
		require.ErrorIs(t, err, voip.ErrUnauthorized)
		assert.Contains(t, err.Error(), "Invalid request signature")
	})
	t.Run("wrong access key", func(t *testing.T) {
		t.Parallel()
		srv, _ := newEmulator(t)
		c, err := newtel.New(signKey, signKey, newtel.WithBaseURL(srv.BaseURL()))
		require.NoError(t, err)
		_, err = c.CompanyState(t.Context())
		require.ErrorIs(t, err, voip.ErrUnauthorized)
	})
	t.Run("tampered body", func(t *testing.T) {
		t.Parallel()
		srv, _ := newEmulator(t)
		tamper := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Body = http.NoBody
			r.ContentLength = 0
			r.Header.Del("Content-Length")
			return http.DefaultTransport.RoundTrip(r)
		})}
		c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.BaseURL()), newtel.WithHTTPClient(tamper))
		require.NoError(t, err)
		_, err = c.PasswordCallStatus(t.Context(), "123")
		require.ErrorIs(t, err, voip.ErrUnauthorized)
		assert.Equal(t, 401, apiError(t, err).StatusCode)
	})
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		t.Run("stale time "+skew.String(), func(t *testing.T) {
			t.Parallel()
			srv, _ := newEmulator(t)
			c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.BaseURL()),
				newtel.WithClock(func() time.Time { return time.Now().Add(skew) }))
			require.NoError(t, err)
			_, err = c.CompanyState(t.Context())
			require.ErrorIs(t, err, voip.ErrUnauthorized)
			assert.Contains(t, err.Error(), "out of the allowed range")
		})
	}
	t.Run("time within skew", func(t *testing.T) {
		t.Parallel()
		srv, _ := newEmulator(t)
		c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.BaseURL()),
			newtel.WithClock(func() time.Time { return time.Now().Add(-time.Minute) }))
		require.NoError(t, err)
		_, err = c.CompanyState(t.Context())
		require.NoError(t, err)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func apiError(t *testing.T, err error) *voip.APIError {
	t.Helper()
	var e *voip.APIError
	require.ErrorAs(t, err, &e)
	return e
}

// unix formats a time as the token does.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
