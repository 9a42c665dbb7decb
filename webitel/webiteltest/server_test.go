package webiteltest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "emulator-token-0123456789"

// call sends one REST request with the token (none when tok is "") and
// returns the status, the body and the headers.
func call(t *testing.T, srv *webiteltest.Server, method, path, tok, body string, hdr ...string) (int, []byte, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.BaseURL()+path, r)
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("X-Webitel-Access", tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b, resp.Header
}

// obj decodes a JSON object.
func obj(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func items(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["items"].([]any)
	require.True(t, ok, "items: %v", m)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestTokenCheckedAndRequestsRecorded(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	status, body, _ := call(t, srv, "GET", "/api/userinfo", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	e := obj(t, body)
	assert.Equal(t, "api.context.unauthorized", e["id"])
	assert.EqualValues(t, 401, e["code"])
	assert.Equal(t, "Unauthorized", e["status"])
	assert.NotEmpty(t, e["detail"])

	status, body, _ = call(t, srv, "GET", "/api/userinfo", token, "")
	require.Equal(t, http.StatusOK, status)
	info := obj(t, body)
	assert.Equal(t, "1", info["user_id"], "int64 as a string")
	assert.Equal(t, "1", info["dc"])
	assert.Equal(t, "101", info["extension"])
	assert.Len(t, info["license"], 1)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/userinfo", reqs[1].Path)
	assert.Equal(t, token, reqs[1].Header.Get("X-Webitel-Access"))
	assert.Empty(t, reqs[0].Header.Get("X-Webitel-Access"))
}

func TestLoginAndTwoFactor(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.SetPassword("olena", "s3cret")
	login := func(domain, pass string) (int, map[string]any) {
		status, body, _ := call(t, srv, "POST", "/api/login", "", `{"domain":"`+domain+`","username":"olena","password":"`+pass+`"}`)
		return status, obj(t, body)
	}
	status, _ := login(webiteltest.DefaultDomain, "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = login("other", "s3cret")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, m := login(webiteltest.DefaultDomain, "s3cret")
	require.Equal(t, http.StatusOK, status)
	tok, _ := m["access_token"].(string)
	require.NotEmpty(t, tok)
	_, body, _ := call(t, srv, "GET", "/api/userinfo", tok, "")
	assert.Equal(t, "2", obj(t, body)["user_id"])

	srv.SetTwoFactor(true)
	status, m = login(webiteltest.DefaultDomain, "s3cret")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, m, "access_token")
	assert.NotEmpty(t, m["id"])
}

func TestUsersPagingAndLifecycle(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	_, body, _ := call(t, srv, "GET", "/api/users?page=1&size=2", token, "")
	m := obj(t, body)
	assert.Equal(t, true, m["next"])
	assert.EqualValues(t, 1, m["page"])
	assert.EqualValues(t, 2, m["size"])
	assert.Equal(t, "1", items(t, m)[0]["id"])
	_, body, _ = call(t, srv, "GET", "/api/users?page=2&size=2", token, "")
	m = obj(t, body)
	assert.NotContains(t, m, "next", "next is left out when false")
	assert.Len(t, items(t, m), 1)
	_, body, _ = call(t, srv, "GET", "/api/users?q=*коваль*", token, "")
	found := items(t, obj(t, body))
	require.Len(t, found, 1)
	assert.Equal(t, "102", found[0]["extension"])

	status, body, _ := call(t, srv, "POST", "/api/users", token,
		`{"name":"Nina","username":"nina","password":"p","extension":"104","license":[{"id":"1f2e3d4c"}]}`)
	require.Equal(t, http.StatusOK, status, string(body))
	u := obj(t, body)
	assert.Equal(t, "4", u["id"], "bare, the id a string")
	assert.Len(t, u["license"], 1)
	assert.Contains(t, srv.Users(), webiteltest.User{ID: 4, Name: "Nina", Username: "nina", Extension: "104", Licensed: true})
	status, _, _ = call(t, srv, "POST", "/api/users", token, `{"name":"Dup","username":"nina"}`)
	assert.Equal(t, http.StatusBadRequest, status)

	status, body, _ = call(t, srv, "PATCH", "/api/users/4", token, `{"user":{"email":"nina@x"}}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "nina@x", obj(t, body)["email"])
	_, body, _ = call(t, srv, "GET", "/api/users/4", token, "")
	assert.Equal(t, "Nina", obj(t, body)["name"])
	status, body, _ = call(t, srv, "DELETE", "/api/users/4", token, "")
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, obj(t, body)["deleted"], 1)
	status, _, _ = call(t, srv, "GET", "/api/users/4", token, "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, webiteltest.User{ID: 9, Name: "X"}, srv.AddUser(webiteltest.User{ID: 9, Name: "X"}))
	assert.EqualValues(t, 10, srv.AddUser(webiteltest.User{Name: "Y"}).ID)
}

func TestUserTokens(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	status, body, _ := call(t, srv, "POST", "/api/users/2/tokens", token, `{"usage":"crm"}`)
	require.Equal(t, http.StatusOK, status)
	created := obj(t, body)
	tok, _ := created["token"].(string)
	require.NotEmpty(t, tok)
	assert.Equal(t, "2", created["user"].(map[string]any)["id"])
	_, body, _ = call(t, srv, "GET", "/api/userinfo", tok, "")
	assert.Equal(t, "2", obj(t, body)["user_id"])

	_, body, _ = call(t, srv, "GET", "/api/users/2/tokens", token, "")
	m := obj(t, body)
	assert.Equal(t, "16", m["size"], "an int64: a string")
	list := items(t, m)
	require.Len(t, list, 1)
	assert.NotContains(t, list[0], "token", "the value is shown at creation only")
	id := created["id"].(string)
	status, body, _ = call(t, srv, "GET", "/api/users/2/tokens/"+id, token, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "crm", obj(t, body)["usage"])
	status, _, _ = call(t, srv, "DELETE", "/api/users/2/tokens/"+id, token, "")
	require.Equal(t, http.StatusOK, status)
	status, _, _ = call(t, srv, "GET", "/api/userinfo", tok, "")
	assert.Equal(t, http.StatusUnauthorized, status, "a deleted token is refused")
	t3 := srv.TokenFor(3)
	assert.Equal(t, t3, srv.TokenFor(3))
	_, body, _ = call(t, srv, "GET", "/api/userinfo", t3, "")
	assert.Equal(t, "3", obj(t, body)["user_id"])
}

func TestDevicesBareAndWrapped(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	status, body, _ := call(t, srv, "POST", "/api/devices", token,
		`{"name":"Office phone","account":"ivan-sip","password":"pw","user":{"id":1}}`)
	require.Equal(t, http.StatusOK, status, string(body))
	d := obj(t, body)
	require.Equal(t, "7287", d["id"], "bare on create")
	assert.Equal(t, "1", d["user"].(map[string]any)["id"])
	assert.NotEqual(t, "0", d["logged_in"])

	_, body, _ = call(t, srv, "GET", "/api/devices/7287", token, "")
	wrapped := obj(t, body)
	require.Contains(t, wrapped, "device", "wrapped on read")
	assert.Equal(t, "ivan-sip", wrapped["device"].(map[string]any)["account"])
	_, body, _ = call(t, srv, "GET", "/api/users/1", token, "")
	assert.Equal(t, "7287", obj(t, body)["device"].(map[string]any)["id"])

	status, body, _ = call(t, srv, "PATCH", "/api/devices/7287", token, `{"name":"Desk"}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Desk", obj(t, body)["device"].(map[string]any)["name"])
	_, body, _ = call(t, srv, "GET", "/api/devices?q=desk&user.id=1", token, "")
	m := obj(t, body)
	assert.Len(t, items(t, m), 1)
	assert.EqualValues(t, 16, m["size"])
	status, _, _ = call(t, srv, "POST", "/api/devices", token, `{"name":"x","account":"ivan-sip"}`)
	assert.Equal(t, http.StatusBadRequest, status, "account taken")
	status, _, _ = call(t, srv, "DELETE", "/api/devices/7287", token, "")
	require.Equal(t, http.StatusOK, status)
	status, _, _ = call(t, srv, "GET", "/api/devices/7287", token, "")
	assert.Equal(t, http.StatusNotFound, status)
}

func TestCreateCallFromAndBusy(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	for _, body := range []string{
		`{"from":{"extension":"102"},"destination":"+380501234567"}`,
		`{"destination":"+380501234568"}`,
		`{"from":{"id":"3"},"destination":"+380501234569"}`,
		`{"from":{"id":2},"destination":"+380501234560"}`,
	} {
		status, b, _ := call(t, srv, "POST", "/api/calls", token, body)
		require.Equal(t, http.StatusOK, status, string(b))
		assert.NotEmpty(t, obj(t, b)["id"])
	}
	placed := srv.Calls()
	require.Len(t, placed, 4)
	assert.Equal(t, webiteltest.PlacedCall{ID: placed[0].ID, From: "102", Destination: "+380501234567"}, placed[0])
	assert.Equal(t, "101", placed[1].From, "without from, the token's user")
	assert.Equal(t, "103", placed[2].From)
	assert.Equal(t, "102", placed[3].From, "an id as a number")

	srv.SetBusy("101", true)
	status, b, _ := call(t, srv, "POST", "/api/calls", token, `{"destination":"+380501234567"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "app.call.create.valid.busy", obj(t, b)["id"])
	status, _, _ = call(t, srv, "POST", "/api/calls", token, `{"from":{"extension":"999"},"destination":"1"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	srv.SetBusy("101", false)

	srv.Fail("/api/calls", http.StatusServiceUnavailable, `{"id":"internal","code":503}`)
	status, _, _ = call(t, srv, "POST", "/api/calls", "", `{"destination":"1"}`)
	assert.Equal(t, http.StatusUnauthorized, status, "the token is checked first; the fault waits")
	status, b, _ = call(t, srv, "POST", "/api/calls", token, `{"destination":"1"}`)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.JSONEq(t, `{"id":"internal","code":503}`, string(b))
	status, _, _ = call(t, srv, "POST", "/api/calls", token, `{"destination":"1"}`)
	assert.Equal(t, http.StatusOK, status, "once")
	assert.Len(t, srv.Calls(), 5, "the failed requests placed nothing")
}

func TestActiveCallControlAndDTMFBug(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	id := srv.Incoming("101", "+380671112233")
	require.NotEmpty(t, id)
	require.True(t, srv.Answer(id))
	_, body, _ := call(t, srv, "GET", "/api/calls/active", token, "")
	m := obj(t, body)
	assert.NotContains(t, m, "page", "engine lists do not echo page")
	active := items(t, m)
	require.Len(t, active, 1)
	assert.Equal(t, id, active[0]["id"])
	assert.Equal(t, "inbound", active[0]["direction"])
	assert.IsType(t, "", active[0]["answered_at"])
	assert.NotEqual(t, "0", active[0]["answered_at"])
	appID := active[0]["app_id"].(string)

	status, body, _ := call(t, srv, "PATCH", "/api/calls/active/"+id+"/hold", token, `{}`)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"state":"hold"}`, string(body))
	status, body, _ = call(t, srv, "PATCH", "/api/calls/active/"+id+"/unhold", token, `{"app_id":"`+appID+`"}`)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"state":"active"}`, string(body))
	status, _, _ = call(t, srv, "PATCH", "/api/calls/active/"+id+"/hold", token, `{"app_id":"fs-9"}`)
	assert.Equal(t, http.StatusBadRequest, status, "another node")

	call(t, srv, "PATCH", "/api/calls/active/"+id+"/dtmf", token, `{"digit":"5"}`)
	call(t, srv, "PATCH", "/api/calls/active/"+id+"/dtmf", token, `{"digit":"77"}`)
	assert.Equal(t, "\x007", srv.Digits(id), "a single digit is sent as NUL, as the engine does")

	status, _, _ = call(t, srv, "PATCH", "/api/calls/active/"+id+"/transfer", token, `{"destination":"102"}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "102", srv.Transferred(id))
	status, body, _ = call(t, srv, "POST", "/api/calls/active/"+id+"/eavesdrop", token, `{"control":true}`)
	require.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, obj(t, body)["id"])

	status, body, _ = call(t, srv, "DELETE", "/api/calls/active/"+id, token, `{"cause":"NORMAL_CLEARING"}`)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{}`, string(body))
	status, body, _ = call(t, srv, "DELETE", "/api/calls/active/"+id, token, "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "app.call.not_found", obj(t, body)["id"])
	hist := srv.History()
	require.Len(t, hist, 1)
	rec := obj(t, hist[0])
	assert.Equal(t, id, rec["id"])
	assert.Equal(t, "A", rec["hangup_by"])
	assert.Len(t, rec["files"], 1, "answered: a recording")
}

func TestHistoryAnchorPagingAndFiles(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	end := time.Now().Add(-time.Hour).Truncate(time.Second)
	srv.AddHistory(5, "102", end)

	status, body, _ := call(t, srv, "GET", "/api/calls/history?page=1&size=10", token, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "grpc.call.search_history", obj(t, body)["id"])

	q := "/api/calls/history?created_at.from=" + ms(end.Add(-time.Hour)) + "&created_at.to=" + ms(end) + "&size=2"
	_, body, _ = call(t, srv, "GET", q+"&page=1", token, "")
	m := obj(t, body)
	assert.Equal(t, true, m["next"])
	first := items(t, m)
	require.Len(t, first, 2)
	assert.Equal(t, ms(end), first[0]["hangup_at"], "newest first, ms as strings")
	assert.Greater(t, first[0]["created_at"], first[1]["created_at"])
	assert.EqualValues(t, 200, first[0]["sip_code"])
	assert.EqualValues(t, 60, first[0]["talk_sec"], "durations are numbers")
	_, body, _ = call(t, srv, "GET", q+"&page=3", token, "")
	m = obj(t, body)
	assert.NotContains(t, m, "next")
	last := items(t, m)
	require.Len(t, last, 1)

	var missed map[string]any
	for _, raw := range srv.History() {
		if r := obj(t, raw); r["cause"] == "NO_ANSWER" {
			missed = r
		}
	}
	require.NotNil(t, missed, "the fourth call is missed")
	assert.Equal(t, "0", missed["answered_at"])
	assert.Empty(t, missed["files"])

	answered := first[0]
	id := answered["id"].(string)
	_, body, _ = call(t, srv, "GET", "/api/calls/history?id="+id, token, "")
	require.Len(t, items(t, obj(t, body)), 1, "one call by id, no dates")
	_, body, _ = call(t, srv, "GET", "/api/calls/history?number=%2B380501000001", token, "")
	assert.Len(t, items(t, obj(t, body)), 1)
	file := answered["files"].([]any)[0].(map[string]any)
	assert.IsType(t, "", file["size"])
	assert.IsType(t, "", file["id"])
	_, body, _ = call(t, srv, "GET", "/api/calls/"+id+"/files", token, "")
	files := items(t, obj(t, body))
	require.Len(t, files, 1)
	assert.Equal(t, file["id"], files[0]["id"])
}

func TestRecordingsTokenAndRange(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.AddHistory(1, "101", time.Now())
	rec := obj(t, srv.History()[0])
	fileID := rec["files"].([]any)[0].(map[string]any)["id"].(string)
	want := webiteltest.Recording(fileID)
	path := "/api/storage/recordings/" + fileID

	status, body, _ := call(t, srv, "GET", path+"/download", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "api.context.unauthorized", obj(t, body)["id"])
	status, body, h := call(t, srv, "GET", path+"/download", token, "", "Range", "bytes=0-9")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, want, body, "download sends it all")
	assert.Contains(t, h.Get("Content-Disposition"), "attachment")
	assert.Equal(t, strconv.Itoa(len(want)), h.Get("Content-Length"))
	status, body, _ = call(t, srv, "GET", path+"/download", "", "", "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, want, body)
	status, body, _ = call(t, srv, "GET", path+"/download?access_token="+token, "", "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, want, body)

	status, body, h = call(t, srv, "GET", path+"/stream", token, "", "Range", "bytes=10-")
	require.Equal(t, http.StatusPartialContent, status)
	assert.Equal(t, want[10:], body)
	assert.Equal(t, "bytes 10-"+strconv.Itoa(len(want)-1)+"/"+strconv.Itoa(len(want)), h.Get("Content-Range"))
	status, _, _ = call(t, srv, "GET", "/api/storage/recordings/999999/stream", token, "")
	assert.Equal(t, http.StatusNotFound, status)
}

func TestAgents(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	_, body, _ := call(t, srv, "GET", "/api/call_center/agents", token, "")
	agents := items(t, obj(t, body))
	require.Len(t, agents, 2)
	assert.Equal(t, "10", agents[0]["id"])
	assert.Equal(t, "1", agents[0]["user"].(map[string]any)["id"])
	status, body, _ := call(t, srv, "POST", "/api/call_center/agents", token, `{"user":{"id":"3"}}`)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Equal(t, "12", obj(t, body)["id"])
	_, body, _ = call(t, srv, "GET", "/api/call_center/agents?user_id=3", token, "")
	assert.Len(t, items(t, obj(t, body)), 1)

	status, body, _ = call(t, srv, "PATCH", "/api/call_center/agents/10/status", token, `{"status":"pause","payload":"lunch"}`)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"status":"OK"}`, string(body))
	_, body, _ = call(t, srv, "GET", "/api/call_center/agents?id=10", token, "")
	assert.Equal(t, "pause", items(t, obj(t, body))[0]["status"])
	status, body, _ = call(t, srv, "PATCH", "/api/call_center/agents/10/status", token, `{"status":"break_out"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "grpc.agent.update_status", obj(t, body)["id"])
	status, _, _ = call(t, srv, "PATCH", "/api/call_center/agents/99/status", token, `{"status":"online"}`)
	assert.Equal(t, http.StatusNotFound, status)
}
