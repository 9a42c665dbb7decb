package phonettest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
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

func TestFailQueuesRepliesAfterTheSessionCheck(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(key)
	defer srv.Close()
	srv.Fail("/rest/users", http.StatusServiceUnavailable, "maintenance")
	status, _, _ := get(t, srv, "/rest/users", nil)
	assert.Equal(t, http.StatusForbidden, status, "no session: the fault waits")
	srv.Fail("", http.StatusUnauthorized, "")
	resp, cookie := authorize(t, srv, key)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, `"" is any path, authorize included`)
	require.Nil(t, cookie)
	_, cookie = authorize(t, srv, key)
	require.NotNil(t, cookie)
	srv.Fail("", http.StatusInternalServerError, "boom")
	srv.Fail("/rest/users", http.StatusBadGateway, "")

	status, body, _ := get(t, srv, "/rest/users", cookie)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "maintenance", body)
	status, _, _ = get(t, srv, "/rest/users", cookie)
	assert.Equal(t, http.StatusBadGateway, status, "the path's own faults go first")
	status, body, _ = get(t, srv, "/rest/calls/active/v3", cookie)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "boom", body)
	status, _, _ = get(t, srv, "/rest/users", cookie)
	assert.Equal(t, http.StatusOK, status, "each fault answers once")
	assert.Len(t, srv.Requests(), 7, "faulted requests are recorded too")
}

// hooks is a CRM that records the webhooks it receives, decoded from JSON
// or a form, and answers lookups with a card.
type hooks struct {
	mu     sync.Mutex
	bodies []map[string]any
	forms  []url.Values
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		v, _ := url.ParseQuery(string(b))
		h.forms = append(h.forms, v)
	} else {
		m := map[string]any{}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		_ = d.Decode(&m)
		h.bodies = append(h.bodies, m)
	}
	if strings.Contains(string(b), "event") {
		_, _ = w.Write([]byte(`[]`))
		return
	}
	_, _ = w.Write([]byte(`{"name":"Анастасия","newEntity":false}`))
}

// newCRM starts an emulator and a recording CRM for one test.
func newCRM(t *testing.T) (*phonettest.Server, *hooks, string) {
	t.Helper()
	srv := phonettest.NewServer(key)
	t.Cleanup(srv.Close)
	crm := &hooks{}
	s := httptest.NewServer(crm)
	t.Cleanup(s.Close)
	return srv, crm, s.URL
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	require.NoError(t, err)
	return n
}

func TestPlayInboundTimesAgree(t *testing.T) {
	t.Parallel()
	srv, crm, crmURL := newCRM(t)
	id, err := srv.PlayInbound(t.Context(), phonettest.Webhooks{URL: crmURL}, phonettest.InboundCall{
		Client: "+380501234567", Ext: "002", Ring: 7 * time.Second, Talk: 61 * time.Second,
	})
	require.NoError(t, err)
	require.Len(t, id, 32)
	require.Len(t, crm.bodies, 4)
	assert.Equal(t, map[string]any{"otherLegNum": "+380501234567", "trunkNum": phonettest.DefaultTrunk}, crm.bodies[0])
	var events []string
	for _, b := range crm.bodies[1:] {
		events = append(events, b["event"].(string))
		assert.Equal(t, id, b["uuid"])
		assert.Equal(t, json.Number("4"), b["lgDirection"], "incoming")
	}
	assert.Equal(t, []string{"call.dial", "call.bridge", "call.hangup"}, events)
	dial, bridge := num(t, crm.bodies[1]["dialAt"]), num(t, crm.bodies[2]["bridgeAt"])
	assert.Equal(t, dial+7, bridge, "answered after the ring (seconds)")
	hangup := crm.bodies[3]
	assert.Equal(t, bridge, num(t, hangup["bridgeAt"]))
	end := num(t, hangup["serverTime"])
	assert.Equal(t, (dial+7+61)*1000, end, "ended after the talk (ms)")

	_, cookie := authorize(t, srv, key)
	q := url.Values{"timeFrom": {itoa(end - 1)}, "timeTo": {itoa(end + 1)}, "limit": {"50"}, "offset": {"0"}}
	status, body, _ := get(t, srv, "/rest/calls/company.api?"+q.Encode(), cookie)
	require.Equal(t, http.StatusOK, status)
	var rows []map[string]any
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	require.NoError(t, d.Decode(&rows))
	require.Len(t, rows, 1)
	rec := rows[0]
	assert.Equal(t, id[:8]+"-"+id[8:12]+"-"+id[12:16]+"-"+id[16:20]+"-"+id[20:], rec["uuid"], "dashed in the history")
	assert.Equal(t, end, num(t, rec["endAt"]))
	assert.EqualValues(t, 68, num(t, rec["duration"]), "from the dial")
	assert.EqualValues(t, 61, num(t, rec["billSecs"]), "from the answer")
	assert.Equal(t, json.Number("0"), rec["disposition"])
	link := strings.TrimSpace(rec["audioRecUrl"].(string))
	path := strings.TrimPrefix(link, "https://"+srv.Domain)
	status, audio, _ := get(t, srv, path, nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, string(phonettest.Recording(rec["uuid"].(string))), audio)
	status, _, _ = get(t, srv, "/rest/public/calls/"+id+"/audio", nil)
	assert.Equal(t, http.StatusNotFound, status, "served at the history's form only")
}

func TestPlayUnansweredOutboundAsAForm(t *testing.T) {
	t.Parallel()
	srv, crm, crmURL := newCRM(t)
	placed := phonettest.PlacedCall{UUID: "47a968893984475b8c20e29dec144ce3", Ext: "001", To: "+380931234567"}
	require.NoError(t, srv.PlayOutbound(t.Context(), phonettest.Webhooks{URL: crmURL, Encoding: phonettest.Form}, placed, 30*time.Second, 0))
	require.Len(t, crm.forms, 2, "no lookup, no bridge")
	dial, hangup := crm.forms[0], crm.forms[1]
	assert.Equal(t, "call.dial", dial.Get("event"))
	assert.Equal(t, "2", dial.Get("lgDirection"), "outgoing")
	assert.Equal(t, "001", dial.Get("leg[ext]"))
	assert.Equal(t, "+380931234567", dial.Get("otherLegs[0][num]"))
	assert.Equal(t, "call.hangup", hangup.Get("event"))
	assert.Equal(t, "", hangup.Get("bridgeAt"), "null: never answered")

	_, err := srv.PlayInbound(t.Context(), phonettest.Webhooks{URL: crmURL + "/nowhere", Client: &http.Client{}}, phonettest.InboundCall{Ext: "001"})
	require.NoError(t, err, "the CRM stub answers every path")
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "nope", http.StatusTeapot) }))
	defer bad.Close()
	_, err = srv.PlayInbound(t.Context(), phonettest.Webhooks{URL: bad.URL}, phonettest.InboundCall{Ext: "001"})
	var se *phonettest.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusTeapot, se.Status)
	assert.Equal(t, "nope", se.Body)
}

func TestOfflineRefusesConnectionsUntilBackOnTheSameAddress(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(key)
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/live/connector/v3/easy?" +
		url.Values{"domain": {srv.Domain}, "apiKey": {key}, "subscriber": {"001"}}.Encode()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ws, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, srv.AwaitSockets(ctx, 1))
	assert.Equal(t, 1, srv.PushAll([]byte(`{"event":"hello"}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"event":"hello"}`, string(msg))

	require.NoError(t, srv.Offline(true))
	_, _, err = c.Read(ctx)
	require.Error(t, err, "the live socket was dropped")
	_, _, err = websocket.Dial(ctx, ws, nil)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "the listener is closed")
	require.NoError(t, srv.Offline(true), "twice is once")

	require.NoError(t, srv.Offline(false))
	require.NoError(t, srv.Offline(false), "twice is once")
	c2, _, err := websocket.Dial(ctx, ws, nil)
	require.NoError(t, err, "back on the same address")
	defer c2.CloseNow()
	_, cookie := authorize(t, srv, key)
	require.NotNil(t, cookie, "REST is back too")
	require.NoError(t, c2.Close(websocket.StatusNormalClosure, ""))

	require.NoError(t, srv.Offline(true))
	srv.Close() // closes while offline, without waiting for the listener
}
