package graviteltest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends a form command as the protocol notes show it, and returns the
// status and the body.
func post(t *testing.T, s *graviteltest.Server, form url.Values) (int, string) {
	t.Helper()
	resp, err := s.Client().PostForm(s.BaseURL(), form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestAnswersAsTheNotes checks the emulator against the samples of the
// protocol notes, on the wire.
func TestAnswersAsTheNotes(t *testing.T) {
	t.Parallel()
	s := graviteltest.NewServer("key")
	defer s.Close()

	status, body := post(t, s, url.Values{"cmd": {"accounts"}, "token": {"wrong"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `{"error":"Invalid token"}`, body)

	status, body = post(t, s, url.Values{"cmd": {"subscribtionstatus"}, "token": {"key"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.JSONEq(t, `{"error":"Invalid parameters: [cmd]"}`, body)

	status, body = post(t, s, url.Values{"cmd": {"accounts"}, "token": {"key"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"ext":701`, "ext as a number, as in the spec")
	assert.Contains(t, body, `"ext":"703"`, "ext as a string, as on Gravitel")

	status, body = post(t, s, url.Values{"cmd": {"history"}, "type": {"all"}, "limit": {"2"}, "period": {"today"}, "token": {"key"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "a252179d-fa9b-4b2a-9f4a-05c61af0639f,out,+79002445949,admin@test.gravitel.ru,+74996861574,2017-07-07T16:14:08+03:00,0,11,\n"+
		"df3a53ac-c58d-4971-91f6-7c0bf37170cb,out,+79002445949,admin@test.gravitel.ru,+74996861574,2017-07-07T15:43:55+03:00,0,11,", body)

	status, body = post(t, s, url.Values{"cmd": {"subscribeoncalls"}, "user": {"ivan"}, "status": {"off"}, "group_id": {"sales"}, "token": {"key"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "OK", body)

	status, _ = post(t, s, url.Values{"cmd": {"makeCall"}, "user": {"admin"}, "phone": {"+79101234567"}, "token": {"key"}})
	assert.Equal(t, http.StatusBadRequest, status, "a + in phone is rejected")
	status, body = post(t, s, url.Values{"cmd": {"makeCall"}, "user": {"admin"}, "phone": {"79101234567"}, "clid": {"74996861574"}, "token": {"key"}})
	assert.Equal(t, http.StatusOK, status)
	require.Len(t, s.Calls(), 1)
	assert.JSONEq(t, `{"uuid":"`+s.Calls()[0].UUID+`"}`, body)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, s.Calls()[0].UUID)

	s.Fail("", http.StatusBadGateway, "502 Gateway Timeout")
	status, body = post(t, s, url.Values{"cmd": {"get_dnd"}, "user": {"admin"}, "token": {"key"}})
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Equal(t, "502 Gateway Timeout", body)
}
