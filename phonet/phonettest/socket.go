package phonettest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// socket is one live connection and the user it watches.
type socket struct {
	conn *websocket.Conn
	user User
}

// writeTimeout bounds one push to one socket.
const writeTimeout = 5 * time.Second

// live serves the socket: domain, apiKey and subscriber (an ext or an
// email) are checked before the upgrade, and refused with 403.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sub := q.Get("subscriber")
	s.mu.Lock()
	var user User
	found := false
	for _, u := range s.users {
		if sub != "" && (u.Ext == sub || u.Email == sub) {
			user, found = u, true
		}
	}
	refusal := s.socketFaults[sub]
	if len(refusal) > 0 {
		s.socketFaults[sub] = refusal[1:]
	}
	s.mu.Unlock()
	if len(refusal) > 0 {
		http.Error(w, http.StatusText(refusal[0]), refusal[0])
		return
	}
	if q.Get("apiKey") != s.apiKey || q.Get("domain") != s.Domain || !found {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	sock := &socket{conn: conn, user: user}
	s.mu.Lock()
	s.sockets[sock] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sockets, sock)
		s.mu.Unlock()
		_ = conn.CloseNow()
	}()
	// The handler's goroutine is the connection's reader: it answers pings
	// and takes click2call requests. Nothing else runs per connection.
	ctx := context.Background()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		s.command(sock, data)
	}
}

// command answers one client message. Only click2call is known.
func (s *Server) command(sock *socket, data []byte) {
	var msg struct {
		Action string `json:"action"`
		To     string `json:"to"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.Action != "call" {
		s.write(sock, map[string]any{"event": "error", "message": "unknown command"})
		return
	}
	s.mu.Lock()
	failure, mute, delay := s.click2callErr, s.click2callMute, s.click2callDelay
	s.mu.Unlock()
	if mute {
		return
	}
	answer := func() {
		switch {
		case failure != "":
			s.write(sock, map[string]any{"event": "error", "message": failure})
		case msg.To == "":
			s.write(sock, map[string]any{"event": "error", "message": "to is required"})
		default:
			c := s.place(sock.user, msg.To, true)
			s.write(sock, map[string]any{"event": "success"})
			s.pushCall(c, "call.dial")
		}
	}
	if delay <= 0 {
		answer()
		return
	}
	// Late, and off the reader: the connection keeps answering pings and
	// reading further commands meanwhile, as a slow PBX would.
	s.late.Add(1)
	time.AfterFunc(delay, func() {
		defer s.late.Done()
		answer()
	})
}

// FailSocket makes the next handshake of subscriber's socket answer status
// (503, say) instead of upgrading; calls queue up.
func (s *Server) FailSocket(subscriber string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socketFaults[subscriber] = append(s.socketFaults[subscriber], status)
}

// DelayClick2Call makes the reply to each click2call come d after it; 0
// answers at once again.
func (s *Server) DelayClick2Call(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.click2callDelay = d
}

// FailClick2Call makes click2call answer {"event":"error","message":msg};
// "" restores success.
func (s *Server) FailClick2Call(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.click2callErr = msg
}

// MuteClick2Call makes click2call go unanswered while on.
func (s *Server) MuteClick2Call(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.click2callMute = on
}

func (s *Server) write(sock *socket, v any) {
	b, _ := json.Marshal(v)
	s.writeRaw(sock, b)
}

func (s *Server) writeRaw(sock *socket, b []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	_ = sock.conn.Write(ctx, websocket.MessageText, b)
}

// subscribed returns the sockets watching the user with ext.
func (s *Server) subscribed(ext string) []*socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*socket
	for sock := range s.sockets {
		if sock.user.Ext == ext {
			out = append(out, sock)
		}
	}
	return out
}

// Sockets returns how many live connections are open.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// Push sends a raw message to every socket of the user with ext, as is: for
// messages the helpers do not make (unknown events, malformed frames).
func (s *Server) Push(ext string, raw []byte) {
	for _, sock := range s.subscribed(ext) {
		s.writeRaw(sock, raw)
	}
}

// PushAll sends a raw message, as is, to every live socket, one after
// another, and returns to how many: a load generator for many
// subscriptions, where Push per extension would look every socket up each
// time.
func (s *Server) PushAll(raw []byte) int {
	s.mu.Lock()
	socks := make([]*socket, 0, len(s.sockets))
	for sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.mu.Unlock()
	for _, sock := range socks {
		s.writeRaw(sock, raw)
	}
	return len(socks)
}

// DropSockets closes every live connection abruptly, without a close
// frame, as a server restart does.
func (s *Server) DropSockets() {
	s.mu.Lock()
	socks := make([]*socket, 0, len(s.sockets))
	for sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.mu.Unlock()
	for _, sock := range socks {
		_ = sock.conn.CloseNow()
	}
}

// payload is a call event in the WSS article's shape: times in ms,
// serverTime as a string, otherLegs ids as strings, null trunks on
// internal calls.
func (s *Server) payload(c *activeCall, event string) map[string]any {
	m := map[string]any{
		"uuid": c.uuid, "parentUuid": nilIfEmpty(c.parent), "lgDirection": int(c.direction),
		"leg":      map[string]any{"id": c.user.ID, "type": 1, "displayName": c.user.DisplayName, "ext": c.user.Ext},
		"leg2":     nil,
		"dialAt":   c.dialAt.UnixMilli(),
		"bridgeAt": nil, "serverTime": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"trunkNum": DefaultTrunk, "trunkName": DefaultTrunk,
		"otherLegs": []map[string]any{{
			"id": "29", "name": "Тест", "num": c.client, "companyName": nil,
			"url": "https://" + s.Domain + "/features/crm/contacts/edit.jsp#/?id=29", "priority": 2,
		}},
	}
	if event != "" {
		m["event"] = event
	}
	if !c.bridgeAt.IsZero() {
		m["bridgeAt"] = c.bridgeAt.UnixMilli()
	}
	if !c.direction.external() {
		m["otherLegs"], m["trunkNum"], m["trunkName"] = nil, nil, nil
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) pushCall(c *activeCall, event string) {
	b, _ := json.Marshal(s.payload(c, event))
	s.Push(c.user.Ext, b)
}

// Incoming rings the user with ext from the number from: a call.dial with
// lgDirection 4 on their sockets. It returns the call's uuid.
func (s *Server) Incoming(ext, from string) string {
	s.mu.Lock()
	u, _ := s.userByExt(ext)
	c := &activeCall{uuid: newID(), direction: DirectionIn, user: u, client: from, dialAt: time.Now()}
	s.active[c.uuid] = c
	s.mu.Unlock()
	s.pushCall(c, "call.dial")
	return c.uuid
}

// Answer bridges an active call: a call.bridge.
func (s *Server) Answer(uuid string) bool {
	s.mu.Lock()
	c, ok := s.active[uuid]
	if ok {
		c.bridgeAt = time.Now()
	}
	s.mu.Unlock()
	if ok {
		s.pushCall(c, "call.bridge")
	}
	return ok
}

// Hangup ends an active call: a call.hangup, and a history record.
func (s *Server) Hangup(uuid string) bool {
	s.mu.Lock()
	c, ok := s.active[uuid]
	delete(s.active, uuid)
	s.mu.Unlock()
	if !ok {
		return false
	}
	s.addRecord(played{uuid: c.uuid, direction: c.direction, user: c.user, client: c.client,
		dial: c.dialAt, bridge: c.bridgeAt, end: time.Now()})
	s.pushCall(c, "call.hangup")
	return true
}

// Pause pushes an operator's pause on (away) or off: lgDirection 32 or 64,
// which is not a call.
func (s *Server) Pause(ext string, away bool) {
	s.mu.Lock()
	u, _ := s.userByExt(ext)
	s.mu.Unlock()
	dir := DirectionBack
	if away {
		dir = DirectionAway
	}
	c := &activeCall{uuid: newID(), direction: dir, user: u, dialAt: time.Now()}
	s.pushCall(c, "call.bridge")
}

// AwaitSockets waits until at least n live connections are registered, or
// ctx ends. A client's handshake completes a moment before the server has
// registered the connection; events pushed in between reach nobody, as they
// would on Phonet.
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

// Close waits for the click2call replies DelayClick2Call held back, then
// shuts the server down like httptest.Server.Close.
func (s *Server) Close() {
	s.late.Wait()
	s.Server.Close()
}
