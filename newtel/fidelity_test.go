package newtel_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

// TestSeedWidgetTokenLiteral pins the token of the seed article's
// webrtc/get-widget-config request, with its example keys, to a digest
// computed outside Go (printf … | sha256sum).
func TestSeedWidgetTokenLiteral(t *testing.T) {
	t.Parallel()
	got := newtel.Sign(newtel.MethodWidgetConfig, []byte(`{"internalNumber":100}`), time.Unix(1700000000, 0), seedAccessKey, seedSignKey)
	assert.Equal(t, seedAccessKey+"1700000000f6c4ba7d3537ce61b6e799a6aa440b9455dce9a04739c2a8f86fff7b2d277633", got)
}

// TestStartCallUnreadableAnswerIsAmbiguous: New-Tel answered 2xx, so it
// processed the request, but the answer cannot be used. For a method that
// starts a call that must match voip.ErrAmbiguous (the phone may ring), and
// the request is sent once. A read stays a plain ErrBadResponse, and a
// method-level error is not ambiguous.
func TestStartCallUnreadableAnswerIsAmbiguous(t *testing.T) {
	t.Parallel()
	start := func(c *newtel.Client) error {
		_, err := c.StartPasswordCall(t.Context(), newtel.PasswordCallRequest{DstNumber: "79161234567", Pin: "1234"})
		return err
	}
	cases := map[string]struct {
		h    http.HandlerFunc
		opts []newtel.Option
	}{
		"truncated":           {h: faults["truncated"]},
		"html with 200":       {h: reply(http.StatusOK, "<html>ok</html>")},
		"broken json":         {h: reply(http.StatusOK, `{"status":"succ`)},
		"no status":           {h: reply(http.StatusOK, `{"data":{}}`)},
		"undecodable details": {h: reply(http.StatusOK, `{"status":"success","data":{"result":"success","callDetails":{"callId":{"x":1}}}}`)},
		"bad signature, required": {
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Signature", strings.Repeat("0", 64))
				_, _ = io.WriteString(w, `{"status":"success","data":{"result":"success","callDetails":{"callId":"1"}}}`)
			},
			opts: []newtel.Option{newtel.WithRequireSignature()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, tc.h)
			err := start(s.client(t, append(tc.opts, newtel.WithHTTPClient(&http.Client{Timeout: time.Second}))...))
			require.ErrorIs(t, err, voip.ErrAmbiguous)
			require.ErrorIs(t, err, voip.ErrBadResponse)
			assert.EqualValues(t, 1, s.hits.Load())
			assert.Contains(t, err.Error(), "not repeated")
		})
	}
	t.Run("read stays unambiguous", func(t *testing.T) {
		t.Parallel()
		s := newStub(t, reply(http.StatusOK, "<html>ok</html>"))
		_, err := s.client(t).CompanyState(t.Context())
		require.ErrorIs(t, err, voip.ErrBadResponse)
		assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	})
	t.Run("method-level error is not ambiguous", func(t *testing.T) {
		t.Parallel()
		s := newStub(t, reply(http.StatusOK, `{"status":"success","data":{"result":"error","message":"Недостаточно средств"}}`))
		err := start(s.client(t))
		require.ErrorIs(t, err, voip.ErrBadRequest)
		assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	})
}

// TestDocSampleAnswers decodes the answers of the protocol notes (§5.1,
// §5.2, §5.4, §5.6) through the typed methods, with the variations public
// code shows: New-Tel's own Go example types userData and operatorNameMnp
// as any, and PHP writes an empty data or callDetails as [].
func TestDocSampleAnswers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	answer := func(t *testing.T, body string) *newtel.Client {
		t.Helper()
		return newStub(t, reply(http.StatusOK, body)).client(t)
	}

	t.Run("5.1 start-password-call", func(t *testing.T) {
		t.Parallel()
		d, err := answer(t, `{"status":"success","data":{"result":"success","callDetails":{"callId":"2096093321622464437","pin":"1234","status":"answered","oper":"<operator name>","region":"<region name>","isValidNumber":true}}}`).
			StartPasswordCall(ctx, newtel.PasswordCallRequest{DstNumber: "79081234567"})
		require.NoError(t, err)
		assert.Equal(t, "2096093321622464437", d.CallID)
		assert.Equal(t, "1234", d.Pin)
		assert.Equal(t, voip.DispositionAnswered, d.Disposition())
		assert.True(t, d.IsValidNumber)
		assert.Equal(t, "<operator name>", d.Operator)
	})
	t.Run("5.2 status with a numeric reasonCode", func(t *testing.T) {
		t.Parallel()
		d, err := answer(t, `{"status":"success","data":{"result":"success","callDetails":{"callId":2096093321622464437,"status":"no such number","reasonCode":8}}}`).
			PasswordCallStatus(ctx, "2096093321622464437")
		require.NoError(t, err)
		assert.Equal(t, "2096093321622464437", d.CallID)
		assert.Equal(t, "8", d.ReasonCode)
		assert.Equal(t, voip.DispositionFailed, d.Disposition())
	})
	t.Run("5.4 inbound with any-typed userData", func(t *testing.T) {
		t.Parallel()
		d, err := answer(t, `{"status":"success","data":{"result":"success","callDetails":{"callId":"77","callbackLink":"https://example.com/?action=callback","clientNumber":"79161234567","confirmationNumber":"74951502837","isMnp":false,"operatorName":"МТС","operatorNameMnp":{"name":"Билайн"},"regionName":"Москва","qrCodeUri":"https://x/qr.png","userData":{"flow":"signup"}}}}`).
			StartInboundCallWaiting(ctx, newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: "https://example.com/?action=callback"})
		require.NoError(t, err, "the call was placed: a side field must not fail the answer")
		assert.Equal(t, "77", d.CallID)
		assert.Equal(t, "74951502837", d.ConfirmationNumber)
		assert.JSONEq(t, `{"flow":"signup"}`, d.UserData)
		assert.JSONEq(t, `{"name":"Билайн"}`, d.OperatorMNP)
	})
	t.Run("5.4 nulls", func(t *testing.T) {
		t.Parallel()
		d, err := answer(t, `{"status":"success","data":{"result":"success","callDetails":{"callId":"78","isMnp":null,"operatorNameMnp":null,"userData":null}}}`).
			StartWaitingModeBusy(ctx, newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: "https://x/"})
		require.NoError(t, err)
		assert.Equal(t, "78", d.CallID)
		assert.Empty(t, d.UserData)
	})
	for name, body := range map[string]string{
		"empty data as []":        `{"status":"success","data":[]}`,
		"empty callDetails as []": `{"status":"success","data":{"result":"success","callDetails":[]}}`,
	} {
		t.Run("PHP "+name, func(t *testing.T) {
			t.Parallel()
			d, err := answer(t, body).StartSimpleCall(ctx, newtel.SimpleCallRequest{SrcNumber: "100", DstNumber: "79161234567"})
			require.NoError(t, err)
			assert.Empty(t, d.CallID)
		})
	}
	t.Run("5.6 get-state", func(t *testing.T) {
		t.Parallel()
		st, err := answer(t, `{ "status": "success", "data": { "result": "success", "state": { "balance": 123.45, "credit": 0, "currency": "RUB" } } }`).
			CompanyState(ctx)
		require.NoError(t, err)
		assert.Equal(t, "123.45", st.Balance.String())
		assert.Equal(t, "0", st.Credit.String())
		assert.Equal(t, "RUB", st.Currency)
	})
}

// TestCallbackUnconfirmedFieldsNeverFail: only callId is confirmed, so an
// unexpected type in another member does not refuse the callback.
func TestCallbackUnconfirmedFieldsNeverFail(t *testing.T) {
	t.Parallel()
	cb, err := newtel.ParseCallback(request(`{"callId":"2096093321622464437","userData":{"flow":"signup"},"status":["x"],"clientNumber":79161234567}`))
	require.NoError(t, err)
	assert.Equal(t, "2096093321622464437", cb.CallID)
	assert.Equal(t, "79161234567", cb.ClientNumber)
	assert.JSONEq(t, `{"flow":"signup"}`, cb.UserData)
}

// TestWidgetConfigInternalNumberEncoding: digits go as a JSON number, as in
// the seed article; a leading zero cannot be a JSON number and goes as a
// string rather than failing.
func TestWidgetConfigInternalNumberEncoding(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"status":"success","data":{"result":"success","widgetConfig":{"a":1}}}`))
	c := s.client(t)
	for _, n := range []string{"100", "0100", "0", "ext-7"} {
		_, err := c.WidgetConfig(t.Context(), n)
		require.NoError(t, err, n)
	}
	_, bodies := s.requests()
	assert.Equal(t, []string{`{"internalNumber":100}`, `{"internalNumber":"0100"}`, `{"internalNumber":0}`, `{"internalNumber":"ext-7"}`}, bodies)
}

// TestBareDigestSignature: the article's words also allow a Signature
// header that is the hash alone, without the access key and time. It is
// checked against the request's time and the Date header's.
func TestBareDigestSignature(t *testing.T) {
	t.Parallel()
	const body = `{"status":"success","data":{"result":"success","state":{"balance":1}}}`
	at := time.Unix(1700000000, 0)
	bare := func(unix int64, key string) string {
		sum := sha256.Sum256([]byte(newtel.MethodCompanyState + "\n" + strconv.FormatInt(unix, 10) + "\n" + accessKey + "\n" + body + "\n" + key))
		return hex.EncodeToString(sum[:])
	}
	cases := []struct {
		name string
		sig  string
		date time.Time
		ok   bool
	}{
		{"request time", bare(at.Unix(), signKey), time.Time{}, true},
		{"Date header time", bare(at.Unix()+5, signKey), at.Add(5 * time.Second), true},
		{"second before Date", bare(at.Unix()+4, signKey), at.Add(5 * time.Second), true},
		{"upper-case", strings.ToUpper(bare(at.Unix(), signKey)), time.Time{}, true},
		{"other time", bare(at.Unix()+60, signKey), at.Add(5 * time.Second), false},
		{"other key", bare(at.Unix(), accessKey), time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Signature", tc.sig)
				if !tc.date.IsZero() {
					w.Header().Set("Date", tc.date.UTC().Format(http.TimeFormat))
				}
				_, _ = io.WriteString(w, body)
			})
			clock := newtel.WithClock(func() time.Time { return at })
			_, err := s.client(t, clock, newtel.WithRequireSignature()).CompanyState(t.Context())
			if !tc.ok {
				require.ErrorIs(t, err, newtel.ErrBadSignature)
				return
			}
			require.NoError(t, err)
			// And without WithRequireSignature, nothing is logged.
			logs := &testutil.Logs{}
			_, err = s.client(t, clock, newtel.WithLogger(logs.Logger())).CompanyState(t.Context())
			require.NoError(t, err)
			assert.NotContains(t, logs.String(), "does not verify")
		})
	}
}
