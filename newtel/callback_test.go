package newtel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

func TestCallbackFromEmulator(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	got := make(chan *newtel.Callback, 1)
	crm := httptest.NewServer(newtel.CallbackHandler(func(_ context.Context, cb *newtel.Callback) error {
		got <- cb
		return nil
	}, nil))
	t.Cleanup(crm.Close)

	d, err := c.StartInboundCallWaiting(t.Context(), newtel.InboundCallRequest{ClientNumber: "79161234567", CallbackLink: crm.URL + "/cb?token=unguessable"})
	require.NoError(t, err)
	require.NoError(t, srv.Callback(t.Context(), crm.Client(), d.CallID))
	cb := <-got
	assert.Equal(t, d.CallID, cb.CallID)
	assert.JSONEq(t, `{"callId":"`+d.CallID+`"}`, string(cb.Raw))
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/callbacks/nested_details.json")
	require.NoError(t, err)
	cb, err := newtel.ParseCallback(b)
	require.NoError(t, err)
	assert.Equal(t, "2096093321622464438", cb.CallID, "a number keeps every digit")
	assert.Equal(t, "79161234567", cb.ClientNumber)
	assert.Equal(t, "answered", cb.Status)
	assert.Equal(t, "signup", cb.UserData)

	for _, bad := range []string{"", "callId=1", `{"callId":""}`, `{"callId":{"x":1}}`, `[]`} {
		_, err := newtel.ParseCallback([]byte(bad))
		assert.ErrorIs(t, err, voip.ErrMalformed, bad)
	}
}

func TestCallbackHandlerReplies(t *testing.T) {
	t.Parallel()
	fail := httptest.NewServer(newtel.CallbackHandler(func(context.Context, *newtel.Callback) error {
		return assert.AnError
	}, nil))
	t.Cleanup(fail.Close)
	for body, want := range map[string]int{`{"callId":"1"}`: http.StatusInternalServerError, `{}`: http.StatusBadRequest} {
		resp, err := fail.Client().Post(fail.URL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, want, resp.StatusCode, body)
	}
	resp, err := fail.Client().Get(fail.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
