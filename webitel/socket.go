package webitel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

// The engine socket's protocol, a derivative of Mattermost's (engine
// app/web_conn.go, app/websocket_router.go, app/web_hub.go,
// model/websocket_*.go; webitel_sdk src/socket/client.ts):
//
//   - the client sends {"seq":n,"action":…,"data":{…}} with n ≥ 1 (the
//     router refuses seq ≤ 0), and the engine answers
//     {"status":"OK"|"FAIL","seq_reply":n,"data":…,"error":{AppError}},
//     each request in a goroutine of its own, so replies come in any order;
//   - authentication_challenge {"token"} comes first. The hub registration
//     queues hello before the OK reply, so hello is read while waiting for
//     it. A FAIL (401, or 412 when the user has no licence) leaves the
//     socket open until the engine's authentication timeout (15 s in the
//     engine read here): the client closes it itself;
//   - hello's ping_interval (ms), when set, asks for the application ping
//     {"action":"ping","data":{"ping":1}}, answered {"pong":1}; its
//     session.token echoes the secret;
//   - in Cloudflare mode the engine follows each protocol ping with a text
//     frame of four NULs, and every frame ends with "\n".

// request is one request frame.
type request struct {
	Seq    int64  `json:"seq"`
	Action string `json:"action"`
	Data   any    `json:"data"`
}

// authData is authentication_challenge's data: the secret.
type authData struct {
	Token string `json:"token"`
}

// callState is what the stream knows of a live call: its app_id, which
// socket call control needs, and what the Source needs to map its later
// events (answered yet, direction, parties).
type callState struct {
	appID       string
	answered    bool
	dir         voip.Direction
	client, ext string
	parent      string
}

// wireCallItem is one call of subscribe_call's reply (engine model/call.go
// Call).
type wireCallItem struct {
	ID        lenient.String `json:"id"`
	AppID     lenient.String `json:"app_id"`
	State     lenient.String `json:"state"`
	Direction lenient.String `json:"direction"`
	ParentID  lenient.String `json:"parent_id"`
	From      *wireEndpoint  `json:"from"`
	To        *wireEndpoint  `json:"to"`
}

// connected runs on every connect, before the stream's reader starts: it
// authenticates, subscribes and starts the application ping. Requests
// waiting on a previous connection have failed already (see noticed).
func (s *Stream) connected(ctx context.Context, c *wsstream.Conn) error {
	s.mu.Lock()
	s.stopPinger()
	s.failPending()
	s.early = nil
	s.mu.Unlock()

	var hello *Hello
	auth, err := s.exchange(ctx, c, "authentication_challenge", authData{Token: s.c.token}, &hello)
	if err != nil {
		return err
	}
	if err := s.replyError("authentication_challenge", auth); err != nil {
		if errors.Is(err, voip.ErrUnauthorized) || errors.Is(err, voip.ErrForbidden) {
			return wsstream.Permanent(err)
		}
		return err
	}
	sub, err := s.exchange(ctx, c, "subscribe_call", struct{}{}, &hello)
	if err == nil {
		err = s.replyError("subscribe_call", sub)
	}
	if err != nil {
		return err
	}
	s.seedCalls(sub.data)
	if s.opts.agentID > 0 {
		f, err := s.exchange(ctx, c, "cc_agent_subscribe_status", map[string]int64{"agent_id": s.opts.agentID}, &hello)
		if err == nil {
			err = s.replyError("cc_agent_subscribe_status", f)
		}
		if err != nil {
			return err
		}
	}

	s.mu.Lock()
	s.conn = c
	if hello != nil && hello.PingInterval > 0 {
		s.startPinger(c, hello.PingInterval)
	}
	early := len(s.early) > 0
	s.mu.Unlock()
	if early {
		// Events that came while connecting are delivered by the reader
		// before the next frame it reads: a ping makes sure one comes.
		seq, _ := s.register()
		body, _ := json.Marshal(request{Seq: seq, Action: "ping", Data: map[string]int{"ping": 1}})
		if err := c.WriteText(ctx, body); err != nil {
			return err
		}
	}
	return nil
}

// exchange sends one request on a connection that is still being set up
// and reads frames until its reply. Keep-alives are skipped, hello is
// taken (into *hello), other events are kept for the reader to deliver,
// and unreadable frames and other replies are skipped.
func (s *Stream) exchange(ctx context.Context, c *wsstream.Conn, action string, data any, hello **Hello) (*frame, error) {
	seq := s.seq.Add(1)
	body, err := json.Marshal(request{Seq: seq, Action: action, Data: data})
	if err != nil {
		return nil, err
	}
	if err := c.WriteText(ctx, body); err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: waiting for the reply: %w", action, err)
		}
		if keepAlive(b) {
			continue
		}
		f, err := parseFrame(b, time.Now())
		switch {
		case err != nil:
			s.log.Debug("webitel: unreadable frame skipped while connecting", slog.Any("err", s.red.Load().Error(err)))
		case f.event != nil && f.event.Hello != nil:
			s.learn(f)
			*hello = f.event.Hello
		case f.event != nil:
			s.mu.Lock()
			s.early = append(s.early, f.event)
			s.mu.Unlock()
		case f.seqReply == seq:
			return f, nil
		}
	}
}

// learn registers hello's session token as a secret.
func (s *Stream) learn(f *frame) {
	if f.sessionToken != "" {
		s.red.Store(s.red.Load().With(f.sessionToken))
	}
}

// replyError is nil for an OK reply, else the reply's AppError as a
// *voip.APIError (a socket FAIL reply: the AppError's code is its status).
func (s *Stream) replyError(action string, f *frame) error {
	if f.ok {
		return nil
	}
	var e *voip.APIError
	if f.err != nil {
		e = f.err.apiError()
	} else {
		e = &voip.APIError{Vendor: Vendor, Kind: voip.ErrBadResponse, Message: "FAIL without an error"}
	}
	e.Method = action
	return s.red.Load().Error(e)
}

// seedCalls takes the user's current calls from subscribe_call's reply:
// their app_id, so that they can be controlled, and whether they were
// answered. Calls the stream knew that are not in the list ended while it
// was disconnected, and are forgotten.
func (s *Stream) seedCalls(data json.RawMessage) {
	var r struct {
		Items []wireCallItem `json:"items"`
	}
	if len(data) > 0 && lenient.Unmarshal(data, &r) != nil {
		s.log.Warn("webitel: unreadable call list in the subscribe_call reply")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	live := make(map[string]bool, len(r.Items))
	for _, it := range r.Items {
		id := string(it.ID)
		if id == "" {
			continue
		}
		live[id] = true
		st := s.state(id)
		if it.AppID != "" {
			st.appID = string(it.AppID)
		}
		switch string(it.State) {
		case ActionActive, ActionBridge, ActionHold:
			st.answered = true
		}
		st.parties(string(it.Direction), it.From.endpoint(), it.To.endpoint())
		if it.ParentID != "" {
			st.parent = string(it.ParentID)
		}
	}
	for id := range s.calls {
		if !live[id] {
			delete(s.calls, id)
		}
	}
}

// state returns the call's state, made when new. Beyond DefaultMaxCalls
// one call is forgotten: an arbitrary one, since a user has a few at most
// and the bound only stops hangups that never came from growing the map.
// The caller holds s.mu.
func (s *Stream) state(id string) *callState {
	if st := s.calls[id]; st != nil {
		return st
	}
	if len(s.calls) >= DefaultMaxCalls {
		for k := range s.calls {
			delete(s.calls, k)
			break
		}
	}
	st := &callState{}
	s.calls[id] = st
	return st
}

// appID returns the app_id of a call the stream knows, "" otherwise.
func (s *Stream) appID(callID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.calls[callID]; st != nil {
		return st.appID
	}
	return ""
}

// noticed fails the requests waiting on a connection that is gone: their
// replies will never come.
func (s *Stream) noticed(n voip.Notice) {
	if n.Kind != voip.NoticeDisconnected && n.Kind != voip.NoticeStopped {
		return
	}
	s.mu.Lock()
	s.stopPinger()
	s.failPending()
	s.conn = nil
	s.mu.Unlock()
}

// register makes a request seq and the channel its reply will come on.
func (s *Stream) register() (int64, chan *frame) {
	ch := make(chan *frame, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.seq.Add(1)
	s.pending[seq] = ch
	return seq, ch
}

// unregister stops waiting for seq's reply, and reports whether it was
// still awaited (false: the reply, or a failure, is on its channel).
func (s *Stream) unregister(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pending[seq]
	delete(s.pending, seq)
	return ok
}

// failPending tells every waiting request its connection is gone. The
// caller holds s.mu.
func (s *Stream) failPending() {
	for seq, ch := range s.pending {
		ch <- nil
		delete(s.pending, seq)
	}
}

// deliverReply hands a reply to the request waiting for it. A reply nobody
// waits for (its request gave up) is dropped.
func (s *Stream) deliverReply(f *frame) {
	s.mu.Lock()
	ch := s.pending[f.seqReply]
	delete(s.pending, f.seqReply)
	s.mu.Unlock()
	if ch != nil {
		ch <- f
	}
}

// request sends one request on the current connection and waits for its
// reply, returning the reply's data. once marks a request that must not be
// doubled (call_invite): a failure after it may have left matches
// voip.ErrAmbiguous.
func (s *Stream) request(ctx context.Context, action string, data any, once bool) (json.RawMessage, error) {
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err // nothing was sent
	}
	seq, ch := s.register()
	body, err := json.Marshal(request{Seq: seq, Action: action, Data: data})
	if err != nil {
		s.unregister(seq)
		return nil, err
	}
	if err := s.ws.Send(ctx, websocket.MessageText, body); err != nil {
		s.unregister(seq)
		switch {
		case errors.Is(err, wsstream.ErrNotConnected):
			return nil, ErrNotConnected
		case errors.Is(err, wsstream.ErrClosed):
			return nil, ErrClosed
		case err == ctx.Err():
			return nil, err // refused before writing
		}
		return nil, s.lost(action, once, "the write failed", err)
	}
	timer := time.NewTimer(s.opts.requestTimeout)
	defer timer.Stop()
	var why string
	var cause error
	select {
	case f := <-ch:
		if f == nil {
			return nil, s.lost(action, once, "the connection was lost before the reply", nil)
		}
		return f.data, s.replyError(action, f)
	case <-timer.C:
		why = fmt.Sprintf("no reply within %v", s.opts.requestTimeout)
	case <-ctx.Done():
		why, cause = "gave up waiting for the reply", ctx.Err()
	case <-s.ctx.Done():
		why, cause = "the stream was closed before the reply", ErrClosed
	}
	if !s.unregister(seq) {
		if f := <-ch; f != nil { // it came as we gave up
			return f.data, s.replyError(action, f)
		}
	}
	return nil, s.lost(action, once, why, cause)
}

// lost is the error of a request that left (or may have) and got no reply.
func (s *Stream) lost(action string, once bool, why string, cause error) error {
	e := &voip.APIError{Vendor: Vendor, Method: action, Kind: voip.ErrUnreachable, Message: why, Err: cause}
	if once {
		e.Kind = voip.ErrAmbiguous
		e.Message = why + "; the call may be ringing, and was not repeated"
	}
	return s.red.Load().Error(e)
}

// startPinger sends the application ping every interval on c until the
// connection changes or the stream stops. The caller holds s.mu.
func (s *Stream) startPinger(c *wsstream.Conn, every time.Duration) {
	s.stopPinger()
	if s.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.pinger = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.pingLoop(ctx, c, every)
	}()
}

// stopPinger stops the current pinger, if any. The caller holds s.mu.
func (s *Stream) stopPinger() {
	if s.pinger != nil {
		s.pinger()
		s.pinger = nil
	}
}

// pingLoop sends {"action":"ping"} every interval and waits for the pong
// as the JS SDK does (webitel_sdk src/socket/client.ts): for half the
// interval, or 3 s for intervals of 10 s and less. A missing pong ends
// the connection as lost, and the stream reconnects: the engine's reader
// for this socket is stuck or gone, even if TCP still answers the
// protocol pings.
func (s *Stream) pingLoop(ctx context.Context, c *wsstream.Conn, every time.Duration) {
	wait := 3 * time.Second
	if every > 10*time.Second {
		wait = every / 2
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seq, ch := s.register()
		body, _ := json.Marshal(request{Seq: seq, Action: "ping", Data: map[string]int{"ping": 1}})
		if err := c.WriteText(ctx, body); err != nil {
			s.unregister(seq)
			return // the connection is gone; the next one has its own pinger
		}
		timer := time.NewTimer(wait)
		select {
		case <-ch:
		case <-timer.C:
			s.unregister(seq)
			s.log.Warn("webitel: no pong to the application ping", slog.Duration("waited", wait))
			s.drop(fmt.Errorf("webitel: no pong to the application ping in %v", wait))
			return
		case <-ctx.Done():
			s.unregister(seq)
		}
		timer.Stop()
	}
}

// decode reads one frame on the stream's reader goroutine: keep-alives are
// skipped, replies go to their requests, hello is taken, events are
// tracked and delivered after any read while connecting.
func (s *Stream) decode(_ websocket.MessageType, data []byte, emit func(*Event)) error {
	if keepAlive(data) {
		return nil
	}
	f, err := parseFrame(data, time.Now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	early := s.early
	s.early = nil
	s.mu.Unlock()
	for _, ev := range early {
		s.deliver(ev, emit)
	}
	switch {
	case f.event == nil:
		s.deliverReply(f)
	case f.event.Hello != nil:
		// A hello after the authentication reply: its ping interval
		// counts all the same. It is not delivered: it echoes the token.
		s.learn(f)
		s.mu.Lock()
		if s.conn != nil && f.event.Hello.PingInterval > 0 && s.pinger == nil {
			s.startPinger(s.conn, f.event.Hello.PingInterval)
		}
		s.mu.Unlock()
	default:
		s.deliver(f.event, emit)
		if e := f.event.Err; e != nil && e.Code == IDSessionExpired {
			// The engine ended the session on an open socket: authenticate
			// again on a new connection (a token that expired for good is
			// then refused, and the stream stops).
			s.drop(e)
		}
	}
	return nil
}

// deliver tracks a call event and hands the event to the consumer.
func (s *Stream) deliver(ev *Event, emit func(*Event)) {
	if ev.Call != nil {
		s.track(ev)
	}
	emit(ev)
}

// track updates what the stream knows of the call, and works out the
// event as a voip.Event: ringing is Start; the first active or bridge is
// Answer (an active after hold is a resume, not a second answer); hangup
// is End, answered when the call was (or had talk time), and forgets the
// call.
func (s *Stream) track(ev *Event) {
	c := ev.Call
	if c.ID == "" {
		return
	}
	ev.tracked = true
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(c.ID)
	if c.AppID != "" {
		st.appID = c.AppID
	}
	if c.ParentID != "" {
		st.parent = c.ParentID
	}
	if c.Action == ActionBridge {
		// A bridge's To is the other party, whatever the direction.
		st.parties(c.Direction, nil, nil)
		if st.client == "" && c.To != nil && c.To.Number != "" {
			st.client = voip.Party(c.To.Number, phoneRegion)
		}
	} else {
		st.parties(c.Direction, c.From, c.To)
	}
	v := voip.Event{Vendor: Vendor, CallID: c.ID, RawStatus: c.Action, At: c.At, Raw: ev.Raw}
	if v.At.IsZero() {
		v.At = ev.ReceivedAt
	}
	switch c.Action {
	case ActionRinging:
		v.Kind = voip.EventStart
	case ActionActive, ActionBridge:
		if !st.answered {
			st.answered = true
			v.Kind = voip.EventAnswer
		}
	case ActionHangup:
		v.Kind = voip.EventEnd
		v.Disposition = Disposition(c.Cause, st.answered || c.Talk > 0)
		v.RawStatus = c.Cause
		delete(s.calls, c.ID)
	}
	if v.Kind == voip.EventUnknown {
		return
	}
	v.ParentCallID, v.Direction, v.Client, v.Ext = st.parent, st.dir, st.client, st.ext
	ev.v, ev.vok = v, true
}

// parties learns the direction and the parties of a call from an event or
// the call list: the socket's user is To on an inbound leg and From on an
// outbound one; the other party is the client.
func (st *callState) parties(direction string, from, to *Endpoint) {
	switch direction {
	case "inbound":
		st.dir = voip.DirectionIn
	case "outbound":
		st.dir = voip.DirectionOut
		from, to = to, from
	case "internal":
		st.dir = voip.DirectionInternal
	}
	// Now from is the far party and to the user, as far as the direction
	// tells; a user endpoint on the far side says otherwise.
	if from != nil && to != nil && from.Type == "user" && to.Type != "user" {
		from, to = to, from
	}
	if from != nil && from.Number != "" {
		st.client = voip.Party(from.Number, phoneRegion)
	}
	if to != nil && to.Number != "" {
		st.ext = to.Number
	}
}

// redactingHandler redacts every message and attribute with the stream's
// current redactor, which learns each hello's session token as it comes:
// the stream engine's own redaction was fixed before any hello, so this one
// stands in front of it.
type redactingHandler struct {
	next slog.Handler
	red  *atomic.Pointer[redact.Redactor]
}

func (h redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	r := h.red.Load()
	out := slog.NewRecord(rec.Time, rec.Level, r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(r, a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	r := h.red.Load()
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = redactAttr(r, a)
	}
	return redactingHandler{next: h.next.WithAttrs(clean), red: h.red}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name), red: h.red}
}

// redactAttr redacts one attribute: strings, errors and anything printed
// with %v become redacted strings; numbers, times and the like pass.
func redactAttr(r *redact.Redactor, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = redactAttr(r, g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		return slog.String(a.Key, r.String(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
