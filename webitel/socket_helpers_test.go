package webitel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// sockWait is how long a socket test waits for something that should
// happen at once.
const sockWait = 5 * time.Second

// engineToken is the token the fake engine accepts; sessionSecret is what
// its hello echoes as session.token (the engine echoes the token itself;
// a distinct value shows that the session token is hidden on its own).
const (
	engineToken   = "tok-3f9a1c77e2b04d5a"
	sessionSecret = "sess-8d1e5b2f6a7c9e03"
)

// fakeRequest is one request frame the fake engine received.
type fakeRequest struct {
	Seq    int64          `json:"seq"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
	raw    string
}

// fakeEngine is a scripted engine socket at /ws/websocket (engine
// app/web_conn.go, app/websocket_router.go as the package doc cites): it
// authenticates with engineToken, queues hello before the OK reply (or
// after, with helloLast), follows each frame with a NUL keep-alive, answers
// subscribe_call with items and ping with pong, and hands other actions to
// onAction (default: OK). A failed authentication leaves the socket open.
type fakeEngine struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	conns        []*fakeConn
	requests     []fakeRequest
	authStatus   int    // 0: accept the token; 401, 412…: FAIL with that code
	helloLast    bool   // hello after the authentication reply
	pingInterval int    // hello's ping_interval, ms; 0: none
	items        string // subscribe_call's items, JSON
	onAction     func(c *fakeConn, r fakeRequest)
	silentNext   int               // so many next connections stop reading once subscribed (half-open)
	mutePings    int               // so many next connections leave the application pings unanswered
	beforeSub    func(c *fakeConn) // runs before the subscribe_call reply
	stop         chan struct{}
	got          chan fakeRequest
	authed       chan *fakeConn
}

// fakeConn is one socket of the fake engine.
type fakeConn struct {
	e   *fakeEngine
	ws  *websocket.Conn
	mu  sync.Mutex
	seq int64 // the event counter, from 0

	pinged, muted bool // under e.mu: a first application ping came; its pings go unanswered
}

func newFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	e := &fakeEngine{t: t, items: "[]", stop: make(chan struct{}), got: make(chan fakeRequest, 256), authed: make(chan *fakeConn, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/websocket", e.serve)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.close)
	return e
}

func (e *fakeEngine) close() {
	close(e.stop)
	e.drop()
	e.srv.Close()
}

// client returns a client of the fake engine with opts.
func (e *fakeEngine) client(opts ...webitel.Option) *webitel.Client {
	e.t.Helper()
	c, err := webitel.New(e.srv.URL, engineToken, opts...)
	require.NoError(e.t, err)
	return c
}

// set changes the script under the lock.
func (e *fakeEngine) set(f func(e *fakeEngine)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

// drop closes every socket abruptly, with no close frame.
func (e *fakeEngine) drop() {
	e.mu.Lock()
	conns := e.conns
	e.conns = nil
	e.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.CloseNow()
	}
}

// requestsFor returns the requests received with action, oldest first.
func (e *fakeEngine) requestsFor(action string) []fakeRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []fakeRequest
	for _, r := range e.requests {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// next waits for the next request with action.
func (e *fakeEngine) next(action string) fakeRequest {
	e.t.Helper()
	deadline := time.After(sockWait)
	for {
		select {
		case r := <-e.got:
			if r.Action == action {
				return r
			}
		case <-deadline:
			e.t.Fatalf("no %s request", action)
		}
	}
}

// conn waits for the next authenticated socket.
func (e *fakeEngine) conn() *fakeConn {
	e.t.Helper()
	select {
	case c := <-e.authed:
		return c
	case <-time.After(sockWait):
		e.t.Fatal("no authenticated socket")
	}
	return nil
}

func (e *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &fakeConn{e: e, ws: ws}
	e.mu.Lock()
	e.conns = append(e.conns, c)
	e.mu.Unlock()
	ctx := context.Background()
	authed := false
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req fakeRequest
		if json.Unmarshal(b, &req) != nil {
			continue
		}
		req.raw = string(b)
		e.mu.Lock()
		e.requests = append(e.requests, req)
		status, helloLast, pi, items, on := e.authStatus, e.helloLast, e.pingInterval, e.items, e.onAction
		e.mu.Unlock()
		select {
		case e.got <- req:
		default:
		}
		switch {
		case req.Action == "authentication_challenge":
			tok, _ := req.Data["token"].(string)
			switch {
			case tok == "":
				_ = ws.CloseNow() // the engine closes without a reply
				return
			case status == 0 && tok != engineToken:
				status = 401
			}
			if status != 0 {
				c.reply(req.Seq, false, "", fmt.Sprintf(`{"id":%q,"status":%q,"detail":"token %s refused","code":%d}`,
					map[bool]string{true: webitel.IDNoLicense, false: "api.context.session_expired.app_error"}[status == 412],
					http.StatusText(status), tok, status))
				continue // the socket stays open, as the engine leaves it
			}
			if !helloLast {
				c.hello(pi)
			}
			c.reply(req.Seq, true, "", "")
			if helloLast {
				c.hello(pi)
			}
			authed = true
			e.authed <- c
		case !authed:
			c.reply(req.Seq, false, "", `{"id":"api.web_socket_router.not_authenticated.app_error","code":401}`)
		case req.Action == "subscribe_call":
			e.mu.Lock()
			before := e.beforeSub
			e.mu.Unlock()
			if before != nil {
				before(c)
			}
			c.reply(req.Seq, true, `{"items":`+items+`}`, "")
			e.mu.Lock()
			silent := e.silentNext > 0
			if silent {
				e.silentNext--
			}
			e.mu.Unlock()
			if silent {
				<-e.stop // half-open: no reads, so no pongs either
				return
			}
		case req.Action == "ping":
			e.mu.Lock()
			if !c.pinged {
				c.pinged, c.muted = true, e.mutePings > 0
				if c.muted {
					e.mutePings--
				}
			}
			muted := c.muted
			e.mu.Unlock()
			if !muted {
				c.reply(req.Seq, true, `{"pong":1}`, "")
			}
		case on != nil:
			on(c, req)
		default:
			c.reply(req.Seq, true, "", "")
		}
	}
}

// write sends one frame, with the engine's trailing newline, then a NUL
// keep-alive frame (Cloudflare mode).
func (c *fakeConn) write(frame string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), sockWait)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, []byte(frame+"\n"))
	_ = c.ws.Write(ctx, websocket.MessageText, []byte("\x00\x00\x00\x00"))
}

func (c *fakeConn) hello(pingInterval int) {
	pi := ""
	if pingInterval > 0 {
		pi = fmt.Sprintf(`"ping_interval":%d,`, pingInterval)
	}
	c.event("hello", `{"server_node_id":"engine-1","server_version":"25.1","server_time":1714550000000,"sock_id":"s1",`+pi+
		`"session":{"id":"x","domain_id":1,"domain_name":"demo","expire":1715000000000,"user_id":123,"token":"`+sessionSecret+`"}}`)
}

// event sends an event frame with the connection's next seq.
func (c *fakeConn) event(name, data string) {
	c.mu.Lock()
	seq := c.seq
	c.seq++
	c.mu.Unlock()
	c.write(fmt.Sprintf(`{"event": %q, "data": %s, "seq": %d}`, name, data, seq))
}

// reply answers request seq: OK with data (may be ""), or FAIL with the
// AppError errJSON.
func (c *fakeConn) reply(seq int64, ok bool, data, errJSON string) {
	var b strings.Builder
	if ok {
		fmt.Fprintf(&b, `{"status":"OK","seq_reply":%d`, seq)
	} else {
		fmt.Fprintf(&b, `{"status":"FAIL","seq_reply":%d`, seq)
	}
	if data != "" {
		b.WriteString(`,"data":` + data)
	}
	if errJSON != "" {
		b.WriteString(`,"error":` + errJSON)
	}
	b.WriteString("}")
	c.write(b.String())
}

// call sends a call event of the leg id on app_id "fs-1".
func (c *fakeConn) call(id, action, data string) {
	c.event("call", fmt.Sprintf(`{"call":{"id":%q,"event":%q,"timestamp":"1714550000123","domain_id":"1","user_id":"123","app_id":"fs-1","data":%s}}`,
		id, action, data))
}

// ringing is an inbound ringing of user 123 (ext 101) from +380501234567.
const ringingData = `{"user_id":123,"direction":"inbound","destination":"101",` +
	`"from":{"type":"dest","number":"+380501234567","name":"+380501234567","id":""},` +
	`"to":{"type":"user","number":"101","name":"John","id":"123"}}`

// subscribe opens a stream on e with fast reconnects, closed when the test
// ends.
func subscribe(t *testing.T, c *webitel.Client, opts ...webitel.StreamOption) *webitel.Stream {
	t.Helper()
	opts = append([]webitel.StreamOption{webitel.WithBackoff(time.Millisecond, 10*time.Millisecond)}, opts...)
	st, err := c.Subscribe(t.Context(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// noLeaks checks, once the test and its cleanups are done, that it left no
// goroutine behind. Register it first, so that it runs last.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func nextEvent(t *testing.T, ch <-chan *webitel.Event) *webitel.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "events closed")
		return ev
	case <-time.After(sockWait):
		t.Fatal("no event")
	}
	return nil
}

func nextVoip(t *testing.T, ch <-chan voip.Event) voip.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "events closed")
		return ev
	case <-time.After(sockWait):
		t.Fatal("no event")
	}
	return voip.Event{}
}

func nextNotice(t *testing.T, ch <-chan voip.Notice, kind voip.NoticeKind) voip.Notice {
	t.Helper()
	deadline := time.After(sockWait)
	for {
		select {
		case n, ok := <-ch:
			require.True(t, ok, "notices closed")
			if n.Kind == kind {
				return n
			}
		case <-deadline:
			t.Fatalf("no notice %v", kind)
		}
	}
}
