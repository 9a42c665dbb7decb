package phonettest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const key = "emulator-key-0123"

// noRedirect sees the emulator's redirects as they are.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorize(t *testing.T, srv *phonettest.Server, apiKey string) (*http.Response, *http.Cookie) {
	t.Helper()
	body := `{"domain":"` + srv.Domain + `","apiKey":"` + apiKey + `"}`
	resp, err := http.Post(srv.URL+"/rest/security/authorize", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "JSESSIONID" {
			return resp, c
		}
	}
	return resp, nil
}

func get(t *testing.T, srv *phonettest.Server, path string, cookie *http.Cookie) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(key)
	defer srv.Close()
	resp, cookie := authorize(t, srv, "wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Nil(t, cookie)
	_, cookie = authorize(t, srv, key)
	require.NotNil(t, cookie)
	status, body, _ := get(t, srv, "/rest/users", cookie)
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.HasPrefix(body, "["), "a bare array")
	status, _, _ = get(t, srv, "/rest/users", nil)
	assert.Equal(t, http.StatusForbidden, status)
	srv.SetExpiredReply(http.StatusFound)
	srv.ExpireSessions()
	status, _, h := get(t, srv, "/rest/calls/active/v3", cookie)
	assert.Equal(t, http.StatusFound, status)
	assert.Equal(t, "/login.jsp", h.Get("Location"))
	srv.SetSessionTTL(time.Millisecond)
	_, cookie = authorize(t, srv, key)
	time.Sleep(5 * time.Millisecond)
	status, _, _ = get(t, srv, "/rest/users", cookie)
	assert.Equal(t, http.StatusFound, status, "an expired session")
}

func TestHistoryLimits(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(key)
	defer srv.Close()
	_, cookie := authorize(t, srv, key)
	now := time.Now()
	q := func(limit, from string) string {
		return "/rest/calls/company.api?" + url.Values{"timeFrom": {from}, "timeTo": {itoa(now.UnixMilli())},
			"limit": {limit}, "offset": {"0"}}.Encode()
	}
	status, body, _ := get(t, srv, q("50", itoa(now.Add(-time.Hour*24).UnixMilli())), cookie)
	require.Equal(t, http.StatusOK, status)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &rows))
	assert.Len(t, rows, 3)
	assert.True(t, strings.HasSuffix(rows[2]["audioRecUrl"].(string), " "), "the vendor's trailing space")
	status, _, _ = get(t, srv, q("51", itoa(now.Add(-time.Hour).UnixMilli())), cookie)
	assert.Equal(t, http.StatusBadRequest, status)
	status, _, _ = get(t, srv, q("10", itoa(now.Add(-time.Hour).Unix())), cookie)
	assert.Equal(t, http.StatusBadRequest, status, "seconds are refused")
}

func TestSocketChecksCredentialsAndTakesClick2Call(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(key)
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/live/connector/v3/easy?"
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, ws+url.Values{"domain": {srv.Domain}, "apiKey": {"bad"}, "subscriber": {"001"}}.Encode(), nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	c, _, err := websocket.Dial(ctx, ws+url.Values{"domain": {srv.Domain}, "apiKey": {key}, "subscriber": {"petr@demo.phonet.com.ua"}}.Encode(), nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, srv.AwaitSockets(ctx, 1))
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"action":"call","to":"380991234567"}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"event":"success"}`, string(msg))
	_, msg, err = c.Read(ctx)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(msg, &ev))
	assert.Equal(t, "call.dial", ev["event"])
	assert.EqualValues(t, 2, ev["lgDirection"])
	assert.IsType(t, "", ev["serverTime"], "serverTime as a string, as in the article")
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
