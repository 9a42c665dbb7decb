package newtel_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]newtel.Option{
		"empty base URL":  {newtel.WithBaseURL(" ")},
		"bad base URL":    {newtel.WithBaseURL("ftp://x/")},
		"nil HTTP client": {newtel.WithHTTPClient(nil)},
		"nil clock":       {newtel.WithClock(nil)},
		"bad retries":     {newtel.WithRetries(-1, time.Second, time.Second)},
	} {
		_, err := newtel.New(accessKey, signKey, opts...)
		assert.Error(t, err, name)
	}
	_, err := newtel.New(` "" `, signKey)
	assert.Error(t, err, "an empty key is refused")
	_, err = newtel.New(accessKey, signKey, nil, newtel.WithLogger(nil))
	assert.NoError(t, err, "nil options and a nil logger are fine")
}

// TestKeyHygiene: quotes and spaces from .env files are stripped, and keys
// that do not look like New-Tel's are used but warned about, without being
// logged.
func TestKeyHygiene(t *testing.T) {
	t.Parallel()
	srv := newteltest.NewServer(accessKey, signKey)
	t.Cleanup(srv.Close)
	logs := &testutil.Logs{}
	c, err := newtel.New(" \""+accessKey+"\"\n", "'"+signKey+"' ", newtel.WithBaseURL(srv.BaseURL()), newtel.WithLogger(logs.Logger()))
	require.NoError(t, err)
	_, err = c.CompanyState(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), "not 48 lowercase hex")

	logs = &testutil.Logs{}
	short := "Short-Key-Not-Hex"
	_, err = newtel.New(short, strings.ToUpper(signKey), newtel.WithLogger(logs.Logger()))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(logs.String(), "not 48 lowercase hex"), logs.String())
	testutil.NoSecret(t, short, logs.String())
	testutil.NoSecret(t, strings.ToUpper(signKey), logs.String())
}

func TestMethodsOnEmulator(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	state, err := c.CompanyState(ctx)
	require.NoError(t, err)
	assert.Equal(t, json.Number("1523.40"), state.Balance)
	assert.Equal(t, json.Number("0"), state.Credit)
	assert.Equal(t, "RUB", state.Currency)

	flash, err := c.StartPasswordCall(ctx, newtel.PasswordCallRequest{DstNumber: "8 (908) 123-45-67", Pin: "1234", Timeout: 30})
	require.NoError(t, err)
	assert.Equal(t, "1234", flash.Pin)
	assert.Equal(t, voip.DispositionAnswered, flash.Disposition())
	assert.True(t, flash.IsValidNumber)
	assert.NotEmpty(t, flash.Operator)
	require.Len(t, srv.Calls(), 1)
	assert.Equal(t, "79081234567", srv.Calls()[0].DstNumber)

	generated, err := c.StartPasswordCall(ctx, newtel.PasswordCallRequest{DstNumber: "+79081234567", Async: true})
	require.NoError(t, err)
	assert.Len(t, generated.Pin, 4, "New-Tel generates the pin")
	assert.Equal(t, voip.DispositionUnknown, generated.Disposition(), "status null while async")

	status, err := c.PasswordCallStatus(ctx, flash.CallID)
	require.NoError(t, err)
	assert.Equal(t, flash.CallID, status.CallID)
	assert.Equal(t, "1", status.ReasonCode)

	_, err = c.PasswordCallStatus(ctx, "404")
	require.ErrorIs(t, err, voip.ErrBadRequest, "a method-level error")
	assert.Equal(t, "Call not found", apiError(t, err).Message)

	voice, err := c.StartVoicePasswordCall(ctx, newtel.VoicePasswordCallRequest{DstNumber: "79081234567", Text: "1 2 3 4"})
	require.NoError(t, err)
	assert.NotEmpty(t, voice.CallID)

	for _, start := range []func() (*newtel.CallDetails, error){
		func() (*newtel.CallDetails, error) {
			return c.StartInboundCallWaiting(ctx, newtel.InboundCallRequest{ClientNumber: "+7 916 123-45-67", CallbackLink: "https://crm.example/cb?t=x", Timeout: 60})
		},
		func() (*newtel.CallDetails, error) {
			return c.StartWaitingModeBusy(ctx, newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: "https://crm.example/cb", UserData: "signup"})
		},
	} {
		d, err := start()
		require.NoError(t, err)
		assert.Equal(t, "79161234567", d.ClientNumber)
		assert.NotEmpty(t, d.ConfirmationNumber)
		assert.NotEmpty(t, d.QRCodeURI)
		assert.False(t, d.IsMNP)
	}

	simple, err := c.StartSimpleCall(ctx, newtel.SimpleCallRequest{SrcNumber: "100", DstNumber: "+7 916 123-45-67", CallerID: "74951112233"})
	require.NoError(t, err)
	assert.NotEmpty(t, simple.CallID)

	cfg, err := c.WidgetConfig(ctx, "100")
	require.NoError(t, err)
	assert.Contains(t, string(cfg), `"internalNumber":"100"`)
	last := srv.Requests()[len(srv.Requests())-1]
	assert.Equal(t, `{"internalNumber":100}`, string(last.Body), "sent as a number, as in the seed article")

	var raw struct {
		State map[string]any `json:"state"`
	}
	require.NoError(t, c.Call(ctx, newtel.MethodCompanyState, nil, &raw))
	assert.Equal(t, "RUB", raw.State["currency"])
	require.NoError(t, c.Call(ctx, newtel.MethodCompanyState, url.Values{}, nil), "a form body")

	err = c.Call(ctx, "no/such-method", nil, nil)
	require.ErrorIs(t, err, voip.ErrNotFound)
	for _, m := range []string{"", "/company/get-state", "company/get-state ", "../x", "a?b"} {
		assert.ErrorIs(t, c.Call(ctx, m, nil, nil), newtel.ErrMethod, m)
	}
}

func TestInvalidNumbersAreNotSent(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	_, err := c.StartPasswordCall(t.Context(), newtel.PasswordCallRequest{DstNumber: "anonymous"})
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	_, err = c.StartSimpleCall(t.Context(), newtel.SimpleCallRequest{SrcNumber: "", DstNumber: "79161234567"})
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	assert.Empty(t, srv.Requests())
}

func TestResponseSignature(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mode newteltest.SignatureMode
		opt  newtel.Option
		ok   bool
	}{
		{"valid", newteltest.SignValid, nil, true},
		{"valid, required", newteltest.SignValid, newtel.WithRequireSignature(), true},
		{"absent", newteltest.SignNone, nil, true},
		{"absent, required", newteltest.SignNone, newtel.WithRequireSignature(), false},
		{"wrong, accepted and logged", newteltest.SignCorrupt, nil, true},
		{"wrong, required", newteltest.SignCorrupt, newtel.WithRequireSignature(), false},
		{"wrong, ignored", newteltest.SignCorrupt, newtel.WithoutSignatureCheck(), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			opts := []newtel.Option{tc.opt, newtel.WithLogger(logs.Logger())}
			srv, c := newEmulator(t, opts...)
			srv.SetSignatureMode(tc.mode)
			_, err := c.CompanyState(t.Context())
			warned := strings.Contains(logs.String(), "Signature does not verify")
			assert.Equal(t, tc.mode == newteltest.SignCorrupt && tc.opt == nil, warned, "a mismatch is logged when accepted")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, newtel.ErrBadSignature)
			require.ErrorIs(t, err, voip.ErrBadResponse)
			assert.Len(t, srv.Requests(), 1, "a bad signature is not retried")
		})
	}
}

// TestEnvelope covers the answers the client must tell apart, whatever the
// HTTP status.
func TestEnvelope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		kind   error
		msg    string
	}{
		{"top-level error with 200", 200, `{"status":"error","message":"Неверная подпись запроса"}`, voip.ErrUnauthorized, "Неверная подпись запроса"},
		{"top-level error with 401", 401, `{"status":"error","message":"Unauthorized"}`, voip.ErrUnauthorized, "Unauthorized"},
		{"method error", 200, `{"status":"success","data":{"result":"error","message":"Недостаточно средств"}}`, voip.ErrBadRequest, "Недостаточно средств"},
		{"method error with 400", 400, `{"status":"success","data":{"result":"error","message":"bad dstNumber"}}`, voip.ErrBadRequest, "bad dstNumber"},
		{"429 with envelope", 429, `{"status":"error","message":"Too many requests"}`, voip.ErrRateLimited, "Too many requests"},
		{"500 html", 500, `<html>oops</html>`, voip.ErrServer, ""},
		{"200 html", 200, `<html>proxy</html>`, voip.ErrBadResponse, ""},
		{"200 no status", 200, `{"data":{}}`, voip.ErrBadResponse, ""},
		{"200 broken json", 200, `{"status":"succ`, voip.ErrBadResponse, ""},
		{"success without data", 200, `{"status":"success"}`, voip.ErrBadResponse, ""},
		{"success without state", 200, `{"status":"success","data":{"result":"success"}}`, voip.ErrBadResponse, ""},
		{"string amounts", 200, `{"status":"success","data":{"result":"success","state":{"balance":"12.5","credit":"","currency":"RUB"}}}`, nil, ""},
		{"status in capitals", 200, `{"status":"SUCCESS","data":{"result":"Success","state":{"balance":1}}}`, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, reply(tc.status, tc.body))
			_, err := s.client(t, newtel.WithRetries(0, time.Millisecond, time.Millisecond)).CompanyState(t.Context())
			if tc.kind == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.kind)
			e := apiError(t, err)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, newtel.Vendor, e.Vendor)
			assert.Equal(t, tc.msg, e.Message)
		})
	}
}

// TestRedirectNamesTheLocation: a redirect, never followed, matches
// voip.ErrNotFound and names where it pointed, as on every vendor.
func TestRedirectNamesTheLocation(t *testing.T) {
	t.Parallel()
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://new-tel.example/elsewhere", http.StatusFound)
	})
	_, err := s.client(t).CompanyState(t.Context())
	require.ErrorIs(t, err, voip.ErrNotFound)
	var ae *voip.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.StatusCode)
	assert.Equal(t, "redirected to https://new-tel.example/elsewhere: check the base URL", ae.Message)
}
