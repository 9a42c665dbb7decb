package newtel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

// callbacks collects what a callback handler delivers.
type callbacks struct {
	mu  sync.Mutex
	got []*newtel.Callback
}

func (c *callbacks) receive(_ context.Context, cb *newtel.Callback) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cb)
	return nil
}

func (c *callbacks) all() []*newtel.Callback {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*newtel.Callback(nil), c.got...)
}

// newCallbackServer serves NewCallbackHandler(cfg) for one test.
func newCallbackServer(t *testing.T, cfg newtel.CallbackConfig) *httptest.Server {
	t.Helper()
	h, err := newtel.NewCallbackHandler(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestCallbacksFromEmulator(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	var got callbacks
	crm := newCallbackServer(t, newtel.CallbackConfig{Callback: got.receive, Token: "unguessable"})
	link := crm.URL + "/newtel/callback?token=unguessable"

	flash, err := c.StartPasswordCall(t.Context(), newtel.PasswordCallRequest{DstNumber: "79161234567", CallbackLink: link})
	require.NoError(t, err)
	inbound, err := c.StartInboundCallWaiting(t.Context(), newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: link})
	require.NoError(t, err)
	require.NoError(t, srv.Callback(t.Context(), crm.Client(), flash.CallID))
	require.NoError(t, srv.Callback(t.Context(), crm.Client(), inbound.CallID))

	cbs := got.all()
	require.Len(t, cbs, 2)
	assert.Equal(t, flash.CallID, cbs[0].CallID)
	assert.Equal(t, inbound.CallID, cbs[1].CallID)
	assert.JSONEq(t, `{"callId":"`+flash.CallID+`"}`, string(cbs[0].Raw))
}

// postCallback posts body to u and returns the status and the reply.
func postCallback(t *testing.T, srv *httptest.Server, u, body string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Post(u, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(reply)
}

func TestCallbackToken(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-t0ken"
	var got callbacks
	crm := newCallbackServer(t, newtel.CallbackConfig{Callback: got.receive, Token: token})
	custom := newCallbackServer(t, newtel.CallbackConfig{Callback: got.receive, Token: token, TokenParam: "t"})
	for name, tc := range map[string]struct {
		srv   *httptest.Server
		query string
		want  int
	}{
		"right token":           {crm, "?token=" + token, http.StatusOK},
		"right, other params":   {crm, "?action=callback&token=" + token, http.StatusOK},
		"custom parameter":      {custom, "?t=" + token, http.StatusOK},
		"no token":              {crm, "", http.StatusUnauthorized},
		"empty token":           {crm, "?token=", http.StatusUnauthorized},
		"wrong token":           {crm, "?token=s3cr3t-t0kem", http.StatusUnauthorized},
		"a prefix":              {crm, "?token=s3cr3t", http.StatusUnauthorized},
		"longer":                {crm, "?token=" + token + "x", http.StatusUnauthorized},
		"twice":                 {crm, "?token=" + token + "&token=" + token, http.StatusUnauthorized},
		"default parameter":     {custom, "?token=" + token, http.StatusUnauthorized},
		"token in another case": {crm, "?token=" + strings.ToUpper(token), http.StatusUnauthorized},
	} {
		status, reply := postCallback(t, tc.srv, tc.srv.URL+"/cb"+tc.query, `{"callId":"`+name+`"}`)
		assert.Equal(t, tc.want, status, name)
		if tc.want == http.StatusOK {
			assert.JSONEq(t, `{}`, reply, name)
		}
	}
	assert.Len(t, got.all(), 3, "only the callbacks with the token")
}

func TestNewCallbackHandlerRefusesMisconfiguration(t *testing.T) {
	t.Parallel()
	var got callbacks
	for name, cfg := range map[string]newtel.CallbackConfig{
		"no callback":           {Token: "x"},
		"a parameter, no token": {Callback: got.receive, TokenParam: "t"},
	} {
		h, err := newtel.NewCallbackHandler(cfg)
		require.Error(t, err, name)
		assert.Nil(t, h)
		assert.True(t, strings.HasPrefix(err.Error(), "newtel: NewCallbackHandler: "), err.Error())
	}
	h, err := newtel.NewCallbackHandler(newtel.CallbackConfig{Callback: got.receive})
	require.NoError(t, err, "no token is checked unless one is set")
	assert.NotNil(t, h)
}

func TestCallbackDuplicatesAreDeliveredOnce(t *testing.T) {
	t.Parallel()
	var got callbacks
	crm := newCallbackServer(t, newtel.CallbackConfig{Callback: got.receive})
	for range 2 {
		status, reply := postCallback(t, crm, crm.URL, `{"callId":"7"}`)
		assert.Equal(t, http.StatusOK, status)
		assert.JSONEq(t, `{}`, reply)
	}
	status, _ := postCallback(t, crm, crm.URL, `{"callId":"8"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, got.all(), 2)

	var off callbacks
	every := newCallbackServer(t, newtel.CallbackConfig{Callback: off.receive, DedupeWindow: -1})
	for range 2 {
		status, _ := postCallback(t, every, every.URL, `{"callId":"7"}`)
		assert.Equal(t, http.StatusOK, status)
	}
	assert.Len(t, off.all(), 2, "a negative window delivers every time")

	shared := voip.NewLocalMemory(0)
	var both callbacks
	a := newCallbackServer(t, newtel.CallbackConfig{Callback: both.receive, Memory: shared})
	b := newCallbackServer(t, newtel.CallbackConfig{Callback: both.receive, Memory: shared})
	postCallback(t, a, a.URL, `{"callId":"9"}`)
	postCallback(t, b, b.URL, `{"callId":"9"}`)
	assert.Len(t, both.all(), 1, "handlers sharing a Memory deliver once")
}

func TestCallbackHandlerReplies(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	fail := newCallbackServer(t, newtel.CallbackConfig{Callback: func(context.Context, *newtel.Callback) error {
		if calls.Add(1) == 1 {
			return errors.New("the CRM's database is down")
		}
		return nil
	}})
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"callId":"1"}`, http.StatusInternalServerError},
		{`{"callId":"1"}`, http.StatusOK}, // the redelivery of a failure is delivered
		{`{}`, http.StatusBadRequest},
	} {
		status, _ := postCallback(t, fail, fail.URL, tc.body)
		assert.Equal(t, tc.want, status, tc.body)
	}
	assert.EqualValues(t, 2, calls.Load())
	resp, err := fail.Client().Get(fail.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/callbacks/nested_details.json")
	require.NoError(t, err)
	cb, err := newtel.ParseCallback(request(string(b)))
	require.NoError(t, err)
	assert.Equal(t, "2096093321622464438", cb.CallID, "a number keeps every digit")
	assert.Equal(t, "79161234567", cb.ClientNumber)
	assert.Equal(t, "answered", cb.Status)
	assert.Equal(t, "signup", cb.UserData)

	for _, bad := range []string{"", "callId=1", `{"callId":""}`, `{"callId":{"x":1}}`, `[]`,
		`{"callId":"1","pad":"` + strings.Repeat("x", voip.DefaultWebhookMaxBody) + `"}`} {
		_, err := newtel.ParseCallback(request(bad))
		assert.ErrorIs(t, err, voip.ErrMalformed, excerpt(bad))
	}
}

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
