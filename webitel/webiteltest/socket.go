package webiteltest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The engine's timings (engine app/web_conn.go): a ping every 60 s, read
// deadline 100 s extended by pongs only, 30 s per write, 15 s to
// authenticate. The hello's ping_interval is configuration; 30 s here.
const (
	defaultPing     = 60 * time.Second
	defaultAuth     = 15 * time.Second
	defaultAppPing  = 30 * time.Second
	writeWait       = 30 * time.Second
	sendQueue       = 256
	shuffleWindow   = 200 * time.Millisecond
	invalidParamID  = "api.websocket_handler.invalid_param.app_error"
	unauthorizedID  = "api.context.unauthorized"
	noLicenseID     = "api.context.permissions.license"
	callNotFoundID  = "app.call.not_found"
	agentNotFoundID = "store.sql_agent.get.app_error"
)

// spam is the Cloudflare-mode frame the engine writes after each ping.
var spam = []byte{0, 0, 0, 0}

type socketConfig struct {
	ping, pongWait, auth, appPing time.Duration
	cloudflare                    bool
}

func defaultSocketConfig() socketConfig {
	return socketConfig{ping: defaultPing, pongWait: defaultPing * 10 / 6, auth: defaultAuth, appPing: defaultAppPing,
		cloudflare: true}
}

// SetPingInterval sets how often sockets opened from now on send a
// protocol ping (default 60 s); a socket whose pong has not come within
// 10/6 of it is dropped, as the engine's read deadline does.
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sockCfg.ping, s.sockCfg.pongWait = d, d*10/6
}

// SetAuthTimeout sets how long a new socket may stay unauthenticated
// before the server closes it (default 15 s, the engine's AUTH_TIMEOUT).
func (s *Server) SetAuthTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sockCfg.auth = d
}

// SetAppPingInterval sets hello's ping_interval for sockets opened from
// now on (default 30 s); 0 leaves it out, as an engine without the
// setting does.
func (s *Server) SetAppPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sockCfg.appPing = d
}

// SetCloudflare turns the four-NUL text frame after each ping on (the
// default) or off, for sockets opened from now on.
func (s *Server) SetCloudflare(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sockCfg.cloudflare = on
}

// FailSocket makes the next authentication_challenge answer FAIL with
// status: 412 with api.context.permissions.license, 401 with
// api.context.unauthorized, any other with api.process.internal. The
// socket stays open, as on Webitel. Calls queue up.
func (s *Server) FailSocket(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sockFail = append(s.sockFail, status)
}

// ShuffleReplies makes replies to actions come back out of order while on:
// a reply is held until the next one, and the two go out in reverse; a
// lone reply goes out after 200 ms. Events are not held.
func (s *Server) ShuffleReplies(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shuffle = on
}

// RequireSubscriptions makes the server strict, as the engine is: call
// events reach a socket only after its subscribe_call, agent_status only
// after its cc_agent_subscribe_status. Off (the default), every
// authenticated socket of the user gets both.
func (s *Server) RequireSubscriptions(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strict = on
}

// frame is one message for a socket: an event, whose seq the writer
// assigns, or a raw frame written as is.
type frame struct {
	event string
	data  []byte
	raw   []byte
}

// socket is one connection.
type socket struct {
	conn *websocket.Conn
	id   string
	cfg  socketConfig
	out  chan frame
	ctx  context.Context // ends when the socket does
	stop context.CancelFunc
	once sync.Once

	// Guarded by Server.mu.
	user          *userRec
	token         string
	calls, agents bool // subscribed (see RequireSubscriptions)
	held          []frame
	heldTimer     bool
}

// serveSocket is the engine's /websocket: the upgrade needs nothing; the
// client authenticates with its first message.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	cfg := s.sockCfg
	s.mu.Unlock()
	defer s.wg.Done()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	sock := &socket{conn: conn, id: newHex(12), cfg: cfg, out: make(chan frame, sendQueue)}
	sock.ctx, sock.stop = context.WithCancel(context.Background())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	s.sockets[sock] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.writePump(sock)
	defer s.kill(sock)
	for {
		_, data, err := conn.Read(sock.ctx)
		if err != nil {
			return
		}
		s.serveFrame(sock, data)
	}
}

// kill ends a socket abruptly (no close frame) and forgets it.
func (s *Server) kill(sock *socket) {
	sock.once.Do(func() {
		sock.stop()
		_ = sock.conn.CloseNow()
		s.mu.Lock()
		delete(s.sockets, sock)
		s.mu.Unlock()
	})
}

// writePump is the socket's only writer of messages, as the engine's:
// events get the connection's seq (from 0), every JSON frame ends with a
// newline, a ping goes out every interval and is followed by the NUL
// frame once its pong is in, and an unauthenticated socket is closed when
// the auth timeout fires.
func (s *Server) writePump(sock *socket) {
	defer s.wg.Done()
	defer s.kill(sock)
	ping := time.NewTicker(sock.cfg.ping)
	defer ping.Stop()
	authT := time.NewTimer(sock.cfg.auth)
	defer authT.Stop()
	var seq int64
	pinging := make(chan struct{}, 1)
	for {
		select {
		case <-sock.ctx.Done():
			return
		case f := <-sock.out:
			b := f.raw
			if f.event != "" {
				name, _ := json.Marshal(f.event)
				b = make([]byte, 0, len(f.data)+len(name)+40)
				b = append(b, `{"event":`...)
				b = append(b, name...)
				b = append(b, `,"data":`...)
				b = append(b, f.data...)
				b = append(b, `,"seq":`...)
				b = strconv.AppendInt(b, seq, 10)
				b = append(b, "}\n"...)
				seq++
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeWait)
			err := sock.conn.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
		case <-ping.C:
			select {
			case pinging <- struct{}{}:
			default:
				continue // the last ping still waits for its pong
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-pinging }()
				ctx, cancel := context.WithTimeout(sock.ctx, sock.cfg.pongWait)
				defer cancel()
				if sock.conn.Ping(ctx) != nil {
					s.kill(sock)
					return
				}
				if sock.cfg.cloudflare {
					s.enqueue(sock, frame{raw: spam})
				}
			}()
		case <-authT.C:
			s.mu.Lock()
			authed := sock.user != nil
			s.mu.Unlock()
			if !authed {
				return
			}
		}
	}
}

// enqueue queues a frame without blocking; a socket whose queue is full is
// dropped.
func (s *Server) enqueue(sock *socket, f frame) {
	select {
	case sock.out <- f:
	case <-sock.ctx.Done():
	default:
		s.kill(sock) // a client that does not read; never called under s.mu
	}
}

// request is the client's envelope (engine model/websocket_request.go).
type request struct {
	Seq    int64          `json:"seq"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
}

// response is the server's reply (engine model/websocket_message.go):
// seq_reply and data omitted when empty, error on FAIL only.
type response struct {
	Status   string         `json:"status"`
	SeqReply int64          `json:"seq_reply,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Error    map[string]any `json:"error,omitempty"`
}

func replyFrame(r response) frame {
	b, _ := json.Marshal(r)
	return frame{raw: append(b, '\n')}
}

func okFrame(seq int64, data map[string]any) frame {
	return replyFrame(response{Status: "OK", SeqReply: seq, Data: data})
}

func failFrame(seq int64, status int, id, detail string) frame {
	return replyFrame(response{Status: "FAIL", SeqReply: seq, Error: appError(status, id, detail)})
}

// serveFrame is the engine's router (engine app/websocket_router.go).
func (s *Server) serveFrame(sock *socket, data []byte) {
	var req request
	if json.Unmarshal(data, &req) != nil {
		s.kill(sock) // the engine's ReadJSON fails and the read pump ends
		return
	}
	switch {
	case req.Action == "":
		s.enqueue(sock, failFrame(req.Seq, http.StatusBadRequest, "api.web_socket_router.no_action.app_error", "no action"))
		return
	case req.Seq <= 0:
		s.enqueue(sock, failFrame(req.Seq, http.StatusBadRequest, "api.web_socket_router.bad_seq.app_error", "seq must be 1 or more"))
		return
	case req.Action == "authentication_challenge":
		s.authenticate(sock, req)
		return
	}
	s.mu.Lock()
	u := sock.user
	s.mu.Unlock()
	if u == nil {
		s.enqueue(sock, failFrame(req.Seq, http.StatusUnauthorized, "api.web_socket_router.not_authenticated.app_error", "authenticate first"))
		return
	}
	res, fail := s.action(sock, u, req)
	if fail != nil {
		s.reply(sock, *fail)
		return
	}
	s.reply(sock, okFrame(req.Seq, res.data))
	if res.after != nil {
		res.after()
	}
}

// authenticate answers authentication_challenge: a second one is ignored,
// one without data.token closes the socket unanswered, a refusal leaves
// the socket open, and on success hello is queued before the OK.
func (s *Server) authenticate(sock *socket, req request) {
	s.mu.Lock()
	already := sock.user != nil
	var forced int
	if !already && len(s.sockFail) > 0 {
		forced, s.sockFail = s.sockFail[0], s.sockFail[1:]
	}
	s.mu.Unlock()
	if already {
		return
	}
	token, ok := req.Data["token"].(string)
	if !ok {
		s.kill(sock)
		return
	}
	if forced != 0 {
		id := "api.process.internal"
		switch forced {
		case http.StatusUnauthorized:
			id = unauthorizedID
		case http.StatusPreconditionFailed:
			id = noLicenseID
		}
		s.enqueue(sock, failFrame(req.Seq, forced, id, "refused by the test"))
		return
	}
	u := s.userOfToken(token)
	if u == nil {
		s.enqueue(sock, failFrame(req.Seq, http.StatusUnauthorized, unauthorizedID, "invalid or expired token"))
		return
	}
	if !u.Licensed {
		s.enqueue(sock, failFrame(req.Seq, http.StatusPreconditionFailed, noLicenseID, "token scope is forceless"))
		return
	}
	s.mu.Lock()
	sock.user, sock.token = u, token
	hello := s.helloLocked(sock)
	s.mu.Unlock()
	s.enqueue(sock, frame{event: "hello", data: hello})
	s.enqueue(sock, okFrame(req.Seq, nil))
}

// helloLocked is the hello event's data (engine app/web_conn.go
// SendHello); the session echoes the token.
func (s *Server) helloLocked(sock *socket) []byte {
	now := time.Now()
	m := map[string]any{
		"server_node_id": "engine-1", "server_build_commit": "webiteltest", "server_version": "26.4.0",
		"server_time": now.UnixMilli(), "sock_id": sock.id, "use_cc": true, "use_chat": false,
		"session": map[string]any{
			"id": newHex(10), "name": sock.user.Name, "domain_id": domainID, "domain_name": s.Domain,
			"expire": now.Add(720 * time.Hour).UnixMilli(), "user_id": sock.user.ID, "role_ids": []int{2},
			"token": sock.token, "scopes": []map[string]any{{"class": "calls", "access": "rxwd"}},
		},
	}
	if sock.cfg.appPing > 0 {
		m["ping_interval"] = sock.cfg.appPing.Milliseconds()
	}
	b, _ := json.Marshal(m)
	return b
}

// reply sends an action's reply, or holds it while ShuffleReplies is on.
func (s *Server) reply(sock *socket, f frame) {
	s.mu.Lock()
	if !s.shuffle {
		s.mu.Unlock()
		s.enqueue(sock, f)
		return
	}
	sock.held = append(sock.held, f)
	var flush []frame
	if len(sock.held) >= 2 {
		flush, sock.held = sock.held, nil
		slices.Reverse(flush)
	} else if !sock.heldTimer {
		sock.heldTimer = true
		s.wg.Add(1)
		time.AfterFunc(shuffleWindow, func() {
			defer s.wg.Done()
			s.mu.Lock()
			rest := sock.held
			sock.held, sock.heldTimer = nil, false
			s.mu.Unlock()
			for _, f := range rest {
				s.enqueue(sock, f)
			}
		})
	}
	s.mu.Unlock()
	for _, f := range flush {
		s.enqueue(sock, f)
	}
}

// ok is an action's success: the reply's data and what to do once the
// reply is queued (events that follow it).
type ok struct {
	data  map[string]any
	after func()
}

func invalid(req request, name string) *frame {
	f := failFrame(req.Seq, http.StatusBadRequest, invalidParamID, "invalid "+name+" parameter for "+req.Action)
	return &f
}

// action runs one request of an authenticated socket (engine wsapi/*.go).
func (s *Server) action(sock *socket, u *userRec, req request) (ok, *frame) {
	switch req.Action {
	case "ping":
		return ok{data: map[string]any{"pong": 1}}, nil
	case "subscribe_call", "call_by_user":
		s.mu.Lock()
		if req.Action == "subscribe_call" {
			sock.calls = true
		}
		items := []map[string]any{}
		for _, c := range s.calls {
			if c.user == u {
				items = append(items, s.activeCallJSON(c))
			}
		}
		s.mu.Unlock()
		return ok{data: map[string]any{"items": items}}, nil
	case "un_subscribe_call":
		s.mu.Lock()
		sock.calls = false
		s.mu.Unlock()
		return ok{}, nil
	case "call_invite":
		dest, isStr := req.Data["destination"].(string)
		if !isStr {
			return ok{}, invalid(req, "destination")
		}
		vars := map[string]string{}
		if p, _ := req.Data["params"].(map[string]any); p != nil {
			if v, _ := p["variables"].(map[string]any); v != nil {
				for k, x := range v {
					if str, isStr := x.(string); isStr {
						vars[k] = str
					}
				}
			}
		}
		c, e := s.place(u, dest, vars, true)
		if e != nil {
			f := failFrame(req.Seq, e.status, e.id, e.detail)
			return ok{}, &f
		}
		return ok{data: map[string]any{"id": c.id}, after: func() { s.ring(c) }}, nil
	case "call_hangup", "call_hold", "call_unhold", "call_dtmf", "call_blind_transfer":
		return s.callAction(req)
	case "cc_agent_session":
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.agentOfUserLocked(u.ID)
		if a == nil {
			f := failFrame(req.Seq, http.StatusNotFound, agentNotFoundID, "the user is not an agent")
			return ok{}, &f
		}
		return ok{data: map[string]any{
			"agent_id": a.id, "status": a.status, "on_demand": false, "last_status_change": a.changed.UnixMilli(),
			"status_duration": int(time.Since(a.changed) / time.Second), "status_payload": a.payload,
			"status_comment": "", "channels": agentChannels(a), "is_supervisor": false, "is_admin": false,
			"supervisor": []any{}, "auditor": []any{},
		}}, nil
	case "cc_agent_subscribe_status", "cc_agent_online", "cc_agent_pause", "cc_agent_offline":
		id, isNum := req.Data["agent_id"].(float64)
		if !isNum {
			return ok{}, invalid(req, "agent_id")
		}
		s.mu.Lock()
		a := s.agentLocked(int64(id))
		if a != nil && req.Action == "cc_agent_subscribe_status" {
			sock.agents = true
		}
		s.mu.Unlock()
		if a == nil {
			f := failFrame(req.Seq, http.StatusNotFound, agentNotFoundID, "no agent "+strconv.FormatInt(int64(id), 10))
			return ok{}, &f
		}
		status := map[string]string{"cc_agent_online": "online", "cc_agent_pause": "pause", "cc_agent_offline": "offline"}[req.Action]
		if status == "" {
			return ok{}, nil
		}
		payload, _ := req.Data["payload"].(string)
		return ok{after: func() { s.setAgentStatus(a, status, payload) }}, nil
	}
	f := failFrame(req.Seq, http.StatusBadRequest, "api.web_socket_router.bad_action.app_error", "unknown action "+req.Action)
	return ok{}, &f
}

// callAction runs call control over the socket: id and app_id are
// required (engine wsapi/call.go), the app_id must be the call's node.
func (s *Server) callAction(req request) (ok, *frame) {
	id, isStr := req.Data["id"].(string)
	if !isStr {
		return ok{}, invalid(req, "id")
	}
	appID, isStr := req.Data["app_id"].(string)
	if !isStr && req.Action != "call_blind_transfer" {
		return ok{}, invalid(req, "app_id")
	}
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil {
		f := failFrame(req.Seq, http.StatusNotFound, callNotFoundID, "no active call "+id)
		return ok{}, &f
	}
	if isStr && appID != c.appID {
		f := failFrame(req.Seq, http.StatusNotFound, "app.call_manager.client.not_found", "the call is not on node "+appID)
		return ok{}, &f
	}
	switch req.Action {
	case "call_hangup":
		cause, _ := req.Data["cause"].(string)
		return ok{after: func() { s.hangup(id, cause, "A") }}, nil
	case "call_hold":
		return ok{after: func() { s.Hold(id) }}, nil
	case "call_unhold":
		return ok{after: func() { s.unhold(id) }}, nil
	case "call_dtmf":
		d, _ := req.Data["dtmf"].(string)
		if d == "" {
			return ok{}, invalid(req, "dtmf")
		}
		s.mu.Lock()
		c.digits = append(c.digits, []rune(d)[0])
		s.mu.Unlock()
		return ok{}, nil
	default: // call_blind_transfer
		dest, _ := req.Data["destination"].(string)
		if dest == "" {
			return ok{}, invalid(req, "destination")
		}
		s.mu.Lock()
		c.transferred = dest
		s.mu.Unlock()
		return ok{}, nil
	}
}

func agentChannels(a *agentRec) []map[string]any {
	if a.status != "online" {
		return []map[string]any{}
	}
	return []map[string]any{{"channel": "call", "state": "waiting", "joined_at": a.changed.UnixMilli(), "online": true}}
}

// setAgentStatus changes an agent's status and tells the agent's user's
// sockets (call_center model/agent.go's event: numbers, not strings).
func (s *Server) setAgentStatus(a *agentRec, status, payload string) {
	s.mu.Lock()
	a.status, a.payload, a.changed = status, payload, time.Now()
	data := map[string]any{"agent_id": a.id, "user_id": a.userID, "domain_id": domainID,
		"timestamp": a.changed.UnixMilli(), "status": status, "status_payload": payload, "status_comment": ""}
	if status == "online" {
		data["channels"], data["on_demand"] = agentChannels(a), false
	}
	uid := a.userID
	s.mu.Unlock()
	b, _ := json.Marshal(data)
	s.toUser(uid, "agent_status", b, false)
}

// AgentStatus sets the agent of the user to status and sends agent_status
// to the user's sockets; a user without an agent gets nothing.
func (s *Server) AgentStatus(userID int64, status string) {
	s.mu.Lock()
	a := s.agentOfUserLocked(userID)
	s.mu.Unlock()
	if a != nil {
		s.setAgentStatus(a, status, "")
	}
}

// toUser queues an event for the authenticated sockets of a user; in
// strict mode only for those subscribed to its kind (call events when
// call, agent_status otherwise).
func (s *Server) toUser(userID int64, event string, data []byte, call bool) {
	s.mu.Lock()
	var socks []*socket
	for sock := range s.sockets {
		if sock.user == nil || sock.user.ID != userID {
			continue
		}
		if s.strict && ((call && !sock.calls) || (!call && !sock.agents)) {
			continue
		}
		socks = append(socks, sock)
	}
	s.mu.Unlock()
	for _, sock := range socks {
		s.enqueue(sock, frame{event: event, data: data})
	}
}

// Push sends raw, as is, to every authenticated socket of the user with
// ext: for frames the helpers do not make (unknown events, bad JSON). It
// takes no seq.
func (s *Server) Push(ext string, raw []byte) {
	s.mu.Lock()
	var socks []*socket
	for sock := range s.sockets {
		if sock.user != nil && sock.user.Extension == ext {
			socks = append(socks, sock)
		}
	}
	s.mu.Unlock()
	for _, sock := range socks {
		s.enqueue(sock, frame{raw: slices.Clone(raw)})
	}
}

// Sockets returns how many authenticated sockets are open.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sock := range s.sockets {
		if sock.user != nil {
			n++
		}
	}
	return n
}

// AwaitSockets waits until at least n authenticated sockets are open, or
// ctx ends. The server registers a socket before it queues hello and the
// OK, so once a client has its reply, AwaitSockets sees it.
func (s *Server) AwaitSockets(ctx context.Context, n int) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for s.Sockets() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// DropSockets closes every socket abruptly, without a close frame, as a
// crash or a lost network does.
func (s *Server) DropSockets() {
	s.mu.Lock()
	socks := make([]*socket, 0, len(s.sockets))
	for sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.mu.Unlock()
	for _, sock := range socks {
		s.kill(sock)
	}
}
