package webiteltest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// peer is a raw client socket.
type peer struct {
	t    *testing.T
	c    *websocket.Conn
	ctx  context.Context
	next int64
}

func dial(t *testing.T, srv *webiteltest.Server) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.BaseURL(), "http")+"/ws/websocket?application_name=test", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &peer{t: t, c: c, ctx: ctx}
}

// send writes a request with the next seq and returns the seq.
func (p *peer) send(action string, data any) int64 {
	p.t.Helper()
	p.next++
	p.raw(map[string]any{"seq": p.next, "action": action, "data": data})
	return p.next
}

func (p *peer) raw(v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(p.t, err)
	require.NoError(p.t, p.c.Write(p.ctx, websocket.MessageText, b))
}

// read returns the next JSON frame, skipping NUL keep-alives; every JSON
// frame must end with a newline.
func (p *peer) read() map[string]any {
	p.t.Helper()
	for {
		_, b, err := p.c.Read(p.ctx)
		require.NoError(p.t, err)
		if bytes.Equal(b, []byte{0, 0, 0, 0}) {
			continue
		}
		require.True(p.t, bytes.HasSuffix(b, []byte("\n")), "frame %q ends with a newline", b)
		var m map[string]any
		require.NoError(p.t, json.Unmarshal(b, &m), string(b))
		return m
	}
}

// auth authenticates and returns hello and the reply, in arrival order.
func (p *peer) auth(tok string) (first, second map[string]any) {
	p.t.Helper()
	p.send("authentication_challenge", map[string]any{"token": tok})
	return p.read(), p.read()
}

func (p *peer) closed() bool {
	p.t.Helper()
	for {
		_, b, err := p.c.Read(p.ctx)
		if err != nil {
			return p.ctx.Err() == nil
		}
		if !bytes.Equal(b, []byte{0, 0, 0, 0}) {
			p.t.Errorf("unexpected frame %s", b)
		}
	}
}

func callOf(t *testing.T, ev map[string]any) map[string]any {
	t.Helper()
	require.Equal(t, "call", ev["event"], "%v", ev)
	return ev["data"].(map[string]any)["call"].(map[string]any)
}

func TestSocketHelloBeforeOK(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	hello, reply := p.auth(token)
	assert.Equal(t, "hello", hello["event"])
	assert.EqualValues(t, 0, hello["seq"], "events count from 0")
	data := hello["data"].(map[string]any)
	assert.EqualValues(t, 30000, data["ping_interval"])
	session := data["session"].(map[string]any)
	assert.Equal(t, token, session["token"], "hello echoes the token")
	assert.EqualValues(t, 1, session["user_id"], "socket numbers are numbers")
	assert.Equal(t, map[string]any{"status": "OK", "seq_reply": float64(1)}, reply)
	assert.Equal(t, 1, srv.Sockets())
	require.NoError(t, srv.AwaitSockets(p.ctx, 1))

	p.send("authentication_challenge", map[string]any{"token": token})
	seq := p.send("ping", map[string]any{"ping": 1})
	pong := p.read()
	assert.EqualValues(t, seq, pong["seq_reply"], "a second challenge is ignored")
	assert.Equal(t, map[string]any{"pong": float64(1)}, pong["data"])
}

func TestSocketRefusalsLeaveItOpen(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.send("authentication_challenge", map[string]any{"token": "wrong"})
	fail := p.read()
	assert.Equal(t, "FAIL", fail["status"])
	assert.EqualValues(t, 1, fail["seq_reply"])
	e := fail["error"].(map[string]any)
	assert.EqualValues(t, 401, e["code"])
	assert.Equal(t, "api.context.unauthorized", e["id"])

	p.send("authentication_challenge", map[string]any{"token": srv.TokenFor(2)})
	e = p.read()["error"].(map[string]any)
	assert.EqualValues(t, 412, e["code"], "user 2 has no licence")
	assert.Equal(t, "api.context.permissions.license", e["id"])

	srv.FailSocket(http.StatusPreconditionFailed)
	p.send("authentication_challenge", map[string]any{"token": token})
	assert.EqualValues(t, 412, p.read()["error"].(map[string]any)["code"])

	seq := p.send("subscribe_call", map[string]any{})
	r := p.read()
	assert.EqualValues(t, seq, r["seq_reply"])
	assert.EqualValues(t, 401, r["error"].(map[string]any)["code"], "not authenticated")
	assert.Equal(t, 0, srv.Sockets())

	hello, ok := p.auth(token)
	assert.Equal(t, "hello", hello["event"], "the same socket still authenticates")
	assert.Equal(t, "OK", ok["status"])
}

func TestSocketAuthTimeoutAndMissingToken(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.SetAuthTimeout(30 * time.Millisecond)
	p := dial(t, srv)
	p.send("authentication_challenge", map[string]any{"token": "wrong"})
	assert.Equal(t, "FAIL", p.read()["status"])
	assert.True(t, p.closed(), "closed by the auth timeout")

	q := dial(t, srv)
	q.send("authentication_challenge", map[string]any{})
	assert.True(t, q.closed(), "no token: closed, unanswered")

	srv.SetAuthTimeout(500 * time.Millisecond)
	a := dial(t, srv)
	a.auth(token)
	time.Sleep(600 * time.Millisecond) // past the auth timeout
	seq := a.send("ping", map[string]any{"ping": 1})
	assert.EqualValues(t, seq, a.read()["seq_reply"], "an authenticated socket stays")
}

func TestSocketBadSeqAndAction(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.raw(map[string]any{"seq": 0, "action": "authentication_challenge", "data": map[string]any{"token": token}})
	r := p.read()
	assert.Equal(t, "FAIL", r["status"])
	assert.NotContains(t, r, "seq_reply", "seq_reply 0 is left out")
	assert.Equal(t, "api.web_socket_router.bad_seq.app_error", r["error"].(map[string]any)["id"])
	assert.Equal(t, 0, srv.Sockets())
	p.auth(token)
	p.send("no_such_action", map[string]any{})
	assert.Equal(t, "api.web_socket_router.bad_action.app_error", p.read()["error"].(map[string]any)["id"])
}

func TestSocketPingsAndNULFrames(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.SetPingInterval(10 * time.Millisecond)
	p := dial(t, srv)
	p.auth(token)
	nul := 0
	for nul < 2 {
		_, b, err := p.c.Read(p.ctx) // answers the server's pings meanwhile
		require.NoError(t, err)
		require.Equal(t, []byte{0, 0, 0, 0}, b)
		nul++
	}
	assert.Equal(t, 1, srv.Sockets(), "pongs keep the socket")
}

func TestSocketSilenceDropsTheSocket(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.SetPingInterval(20 * time.Millisecond)
	srv.SetCloudflare(false)
	p := dial(t, srv)
	p.auth(token)
	go func() { _, _, _ = p.c.Read(p.ctx) }() // answers pings, as a client's reader does
	srv.Silence(true)
	require.Eventually(t, func() bool { return srv.Sockets() == 0 }, 5*time.Second, 5*time.Millisecond,
		"no pong reaches the server: it drops the socket")
	srv.Silence(false)
}

func TestSocketCallEventsPerUser(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.AddUser(webiteltest.User{ID: 4, Name: "Nina", Extension: "104", Licensed: true})
	ivan, nina := dial(t, srv), dial(t, srv)
	ivan.auth(token)
	nina.auth(srv.TokenFor(4))
	require.NoError(t, srv.AwaitSockets(ivan.ctx, 2))

	id := srv.Incoming("101", "+380671112233")
	ring := ivan.read()
	assert.EqualValues(t, 1, ring["seq"])
	c := callOf(t, ring)
	assert.Equal(t, id, c["id"])
	assert.Equal(t, "ringing", c["event"])
	assert.Equal(t, "1", c["user_id"], "strings in the envelope")
	assert.Equal(t, "1", c["domain_id"])
	assert.IsType(t, "", c["timestamp"])
	assert.Contains(t, []any{"fs-1", "fs-2"}, c["app_id"])
	d := c["data"].(map[string]any)
	assert.Equal(t, "inbound", d["direction"])
	assert.Equal(t, "+380671112233", d["from"].(map[string]any)["number"])
	assert.Equal(t, "101", d["to"].(map[string]any)["number"])

	require.True(t, srv.Answer(id))
	active := callOf(t, ivan.read())
	assert.Equal(t, "active", active["event"])
	assert.Equal(t, map[string]any{"user_id": float64(1)}, active["data"], "user_id as a number in every data")
	bridge := ivan.read()
	assert.EqualValues(t, 3, bridge["seq"])
	assert.Equal(t, "bridge", callOf(t, bridge)["event"])
	require.True(t, srv.Hold(id))
	assert.Equal(t, "hold", callOf(t, ivan.read())["event"])
	require.True(t, srv.Hangup(id, ""))
	h := callOf(t, ivan.read())
	assert.Equal(t, "hangup", h["event"])
	hd := h["data"].(map[string]any)
	assert.Equal(t, "NORMAL_CLEARING", hd["cause"])
	assert.EqualValues(t, 200, hd["sip"])
	assert.IsType(t, "", hd["talk_sec"])
	assert.IsType(t, "", hd["record_start"])
	assert.False(t, srv.Hangup(id, ""))

	missed := srv.Incoming("101", "+380671112244")
	callOf(t, ivan.read())
	require.True(t, srv.Hangup(missed, "ORIGINATOR_CANCEL"))
	hd = callOf(t, ivan.read())["data"].(map[string]any)
	assert.EqualValues(t, 200, hd["sip"], "200 even unanswered")
	assert.NotContains(t, hd, "record_start")
	assert.Len(t, srv.History(), 2)

	srv.Push("104", []byte(`{"event":"custom","data":{},"seq":99}`+"\n"))
	assert.Equal(t, "custom", nina.read()["event"], "Nina saw none of Ivan's call")
}

func TestSocketCallControl(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.auth(token)
	seq := p.send("call_invite", map[string]any{"destination": "+380501234567",
		"params": map[string]any{"variables": map[string]any{"crm_lead": "42"}}})
	r := p.read()
	require.EqualValues(t, seq, r["seq_reply"], "%v", r)
	id := r["data"].(map[string]any)["id"].(string)
	ring := callOf(t, p.read())
	assert.Equal(t, id, ring["id"])
	d := ring["data"].(map[string]any)
	assert.Equal(t, "outbound", d["direction"])
	assert.Equal(t, map[string]any{"crm_lead": "42"}, d["payload"])
	appID := ring["app_id"].(string)
	assert.Equal(t, []webiteltest.PlacedCall{{ID: id, From: "101", Destination: "+380501234567", Socket: true}}, srv.Calls())

	p.send("subscribe_call", map[string]any{})
	subs := p.read()["data"].(map[string]any)["items"].([]any)
	require.Len(t, subs, 1)
	assert.Equal(t, id, subs[0].(map[string]any)["id"])

	p.send("call_hold", map[string]any{"id": id})
	e := p.read()["error"].(map[string]any)
	assert.Equal(t, "api.websocket_handler.invalid_param.app_error", e["id"], "app_id is required")
	p.send("call_hold", map[string]any{"id": id, "app_id": "fs-9"})
	assert.Equal(t, "FAIL", p.read()["status"])
	srv.Answer(id)
	callOf(t, p.read())
	callOf(t, p.read())
	seq = p.send("call_hold", map[string]any{"id": id, "app_id": appID})
	assert.Equal(t, map[string]any{"status": "OK", "seq_reply": float64(seq)}, p.read())
	assert.Equal(t, "hold", callOf(t, p.read())["event"])
	p.send("call_unhold", map[string]any{"id": id, "app_id": appID})
	p.read()
	assert.Equal(t, "active", callOf(t, p.read())["event"], "unhold is an active")
	p.send("call_dtmf", map[string]any{"id": id, "app_id": appID, "dtmf": "5"})
	assert.Equal(t, "OK", p.read()["status"])
	assert.Equal(t, "5", srv.Digits(id), "the socket sends one digit")
	p.send("call_hangup", map[string]any{"id": id, "app_id": appID, "cause": "USER_BUSY"})
	assert.Equal(t, "OK", p.read()["status"])
	h := callOf(t, p.read())
	assert.Equal(t, "USER_BUSY", h["data"].(map[string]any)["cause"])
	p.send("call_hangup", map[string]any{"id": id, "app_id": appID})
	assert.Equal(t, "app.call.not_found", p.read()["error"].(map[string]any)["id"])

	srv.SetBusy("101", true)
	p.send("call_invite", map[string]any{"destination": "1"})
	assert.Equal(t, "app.call.create.valid.busy", p.read()["error"].(map[string]any)["id"])
	assert.Len(t, srv.Calls(), 1)
}

func TestSocketShuffledReplies(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.auth(token)
	srv.ShuffleReplies(true)
	a := p.send("ping", map[string]any{"ping": 1})
	b := p.send("ping", map[string]any{"ping": 1})
	assert.EqualValues(t, b, p.read()["seq_reply"])
	assert.EqualValues(t, a, p.read()["seq_reply"])
	c := p.send("ping", map[string]any{"ping": 1})
	assert.EqualValues(t, c, p.read()["seq_reply"], "a lone reply goes out later")
}

func TestSocketAgentActions(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.auth(token)
	p.send("cc_agent_session", map[string]any{})
	sess := p.read()["data"].(map[string]any)
	assert.EqualValues(t, 10, sess["agent_id"])
	p.send("cc_agent_pause", map[string]any{"agent_id": "10", "payload": "lunch"})
	assert.Equal(t, "api.websocket_handler.invalid_param.app_error", p.read()["error"].(map[string]any)["id"],
		"agent_id must be a number")
	seq := p.send("cc_agent_pause", map[string]any{"agent_id": 10, "payload": "lunch"})
	assert.Equal(t, map[string]any{"status": "OK", "seq_reply": float64(seq)}, p.read())
	ev := p.read()
	assert.Equal(t, "agent_status", ev["event"])
	d := ev["data"].(map[string]any)
	assert.Equal(t, float64(10), d["agent_id"])
	assert.Equal(t, float64(1), d["user_id"])
	assert.Equal(t, "pause", d["status"])
	assert.Equal(t, "lunch", d["status_payload"])
	srv.AgentStatus(1, "online")
	d = p.read()["data"].(map[string]any)
	assert.Equal(t, "online", d["status"])
	assert.Len(t, d["channels"], 1)
}

func TestSocketStrictSubscriptions(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	srv.RequireSubscriptions(true)
	p := dial(t, srv)
	p.auth(token)
	srv.Incoming("101", "+1")   // unseen: not subscribed
	srv.AgentStatus(1, "pause") // unseen too
	p.send("subscribe_call", map[string]any{})
	assert.Len(t, p.read()["data"].(map[string]any)["items"], 1)
	srv.Incoming("101", "+2")
	c := callOf(t, p.read())
	assert.Equal(t, "+2", c["data"].(map[string]any)["from"].(map[string]any)["number"])
	p.send("cc_agent_subscribe_status", map[string]any{"agent_id": 10})
	assert.Equal(t, "OK", p.read()["status"])
	srv.AgentStatus(1, "online")
	assert.Equal(t, "agent_status", p.read()["event"])
}

func TestSocketDropAndOffline(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	p := dial(t, srv)
	p.auth(token)
	srv.DropSockets()
	assert.True(t, p.closed())
	assert.Equal(t, 0, srv.Sockets())

	q := dial(t, srv)
	q.auth(token)
	require.NoError(t, srv.Offline(true))
	assert.True(t, q.closed())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.BaseURL(), "http")+"/ws/websocket", nil)
	require.Error(t, err, "refused while offline")
	require.NoError(t, srv.Offline(false))
	r := dial(t, srv)
	_, ok := r.auth(token)
	assert.Equal(t, "OK", ok["status"], "the same address, the same tokens")
}

func TestCloseWithLiveSockets(t *testing.T) {
	t.Parallel()
	srv := webiteltest.NewServer(token)
	p := dial(t, srv)
	p.auth(token)
	srv.ShuffleReplies(true)
	p.send("ping", map[string]any{"ping": 1}) // a held reply and its timer
	srv.Close()
	assert.True(t, p.closed())
}

// FuzzSocketFrames sends arbitrary client frames to an authenticated
// socket: the server never panics, and it either answers a ping after
// them or has closed the socket.
func FuzzSocketFrames(f *testing.F) {
	for _, seed := range []string{
		`{"seq":2,"action":"ping","data":{"ping":1}}`,
		`{"seq":0,"action":"ping"}`,
		`{"seq":-4,"action":""}`,
		`{"seq":2,"action":"authentication_challenge","data":{}}`,
		`{"seq":2,"action":"call_hold","data":{"id":7,"app_id":null}}`,
		`{"seq":2,"action":"call_dtmf","data":{"id":"x","app_id":"fs-1","dtmf":""}}`,
		`{"seq":2,"action":"call_invite","data":{"destination":"+380","params":{"variables":{"a":1,"b":"2"}}}}`,
		`{"seq":2,"action":"cc_agent_pause","data":{"agent_id":1e300}}`,
		`{"seq":2,"action":"cc_agent_online","data":{"agent_id":"10"}}`,
		`{"seq":2,"action":"call_hangup","data":null}`,
		"\x00\x00\x00\x00",
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	f.Fuzz(func(t *testing.T, frame []byte) {
		p := dial(t, srv)
		p.auth(token)
		require.NoError(t, p.c.Write(p.ctx, websocket.MessageText, frame))
		p.raw(map[string]any{"seq": 1 << 40, "action": "ping", "data": map[string]any{"ping": 1}})
		for {
			_, b, err := p.c.Read(p.ctx)
			if err != nil {
				require.NoError(t, p.ctx.Err(), "closed, not timed out")
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil && m["seq_reply"] == float64(1<<40) {
				return
			}
		}
	})
}
