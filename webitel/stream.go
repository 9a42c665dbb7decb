package webitel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

// Errors of the socket's requests.
var (
	// ErrNotConnected: the socket is reconnecting; the request was not
	// sent. Try again after the next connected notice.
	ErrNotConnected = errors.New("webitel: socket not connected")
	// ErrClosed: the stream has stopped.
	ErrClosed = errors.New("webitel: stream closed")
	// ErrUnknownCall: socket call control needs the call's app_id, which
	// only the call's own events carry, and this stream has seen none for
	// the call (or the call has ended). It is a *voip.ArgError's cause, so
	// it matches voip.ErrBadRequest too. Client.HangupCall and the other
	// REST methods need no app_id.
	ErrUnknownCall = errors.New("webitel: call unknown to this stream")
)

// Defaults of the stream options.
const (
	DefaultRequestTimeout = 30 * time.Second
	// DefaultMaxCalls is how many calls a stream remembers at once (their
	// app_id and state), far more than one user has; the oldest is
	// forgotten beyond it.
	DefaultMaxCalls = 1024
)

// StreamOption configures [Client.Subscribe]. Options validate their input.
type StreamOption func(*streamOptions) error

type streamOptions struct {
	pingInterval, pongTimeout time.Duration
	backoffMin, backoffMax    time.Duration
	buffer                    int
	requestTimeout            time.Duration
	agentID                   int64
}

// WithBackoff bounds the wait before a reconnect (defaults 1 s and 30 s).
// The wait doubles after each failure and is drawn at random below that
// ceiling, so that sockets dropped together do not come back together.
func WithBackoff(min, max time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if min <= 0 || max < min {
			return fmt.Errorf("webitel: WithBackoff(%v, %v): want 0 < min ≤ max", min, max)
		}
		o.backoffMin, o.backoffMax = min, max
		return nil
	}
}

// WithPing sets the WebSocket-level keep-alive: a ping every interval, and
// the connection declared dead (and replaced) when a pong takes longer
// than timeout (defaults 25 s and 10 s). This is what finds a half-open
// connection. The engine's own application ping is sent besides, at the
// interval its hello asks for.
func WithPing(interval, timeout time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if interval <= 0 || timeout <= 0 {
			return fmt.Errorf("webitel: WithPing(%v, %v): both must be positive", interval, timeout)
		}
		o.pingInterval, o.pongTimeout = interval, timeout
		return nil
	}
}

// WithBuffer sets the capacity of the events channel (default 256). When
// the consumer falls behind, the oldest events are dropped and a notice
// with Gap says so.
func WithBuffer(n int) StreamOption {
	return func(o *streamOptions) error {
		if n <= 0 {
			return fmt.Errorf("webitel: WithBuffer(%d): must be positive", n)
		}
		o.buffer = n
		return nil
	}
}

// WithRequestTimeout sets how long a request over the socket (Call,
// Hangup, an agent action, …) waits for its reply (default 30 s).
func WithRequestTimeout(d time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if d <= 0 {
			return fmt.Errorf("webitel: WithRequestTimeout(%v): must be positive", d)
		}
		o.requestTimeout = d
		return nil
	}
}

// WithAgentStatus subscribes to the status events of the contact-centre
// agent agentID (cc_agent_subscribe_status) on every connect, besides the
// calls. The engine delivers only the socket user's own agent.
func WithAgentStatus(agentID int64) StreamOption {
	return func(o *streamOptions) error {
		if agentID <= 0 {
			return fmt.Errorf("webitel: WithAgentStatus(%d): want an agent id", agentID)
		}
		o.agentID = agentID
		return nil
	}
}

func newStreamOptions(opts []StreamOption) (streamOptions, error) {
	o := streamOptions{requestTimeout: DefaultRequestTimeout}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Stream is the engine socket of the token's user: its call events (one
// socket sees only its own user's calls) and, when asked, its agent's
// status. It reconnects by itself, re-authenticating and re-subscribing;
// a notice with Gap true says events may have been missed. Its methods are
// safe for concurrent use.
type Stream struct {
	c    *Client
	ws   *wsstream.Stream[*Event]
	live atomic.Pointer[wsstream.Stream[*Event]] // ws, for the pingers and the reader once Start returned
	opts streamOptions
	ctx  context.Context // the stream's life: Subscribe's, ended by Close too
	stop context.CancelFunc
	red  atomic.Pointer[redact.Redactor] // the client's, plus hello's session tokens
	log  *slog.Logger                    // the client's, redacted by red

	seq atomic.Int64 // the last request seq; requests start at 1

	mu      sync.Mutex
	pending map[int64]chan *frame // requests waiting for their reply
	calls   map[string]*callState // what the stream knows of each live call
	early   []*Event              // events read while connecting, not delivered yet
	conn    *wsstream.Conn        // the current connection, nil while reconnecting
	pinger  context.CancelFunc    // stops the current connection's application pings
	wg      sync.WaitGroup        // the pingers

}

// Subscribe opens the engine socket (ws(s)://host/ws/websocket, with
// application_name=pbxkit, which the engine only logs) with the client's
// token, authenticates and subscribes to the user's calls (and to
// its agent's status with WithAgentStatus). It returns once the first
// connection is up, or with the error of that first attempt: a refused
// token matches voip.ErrUnauthorized, a user without a licence
// voip.ErrForbidden (the engine's 412 api.context.permissions.license);
// both are permanent, and neither waits for the engine's
// authentication timeout. ctx bounds the stream's life; Close stops it.
func (c *Client) Subscribe(ctx context.Context, opts ...StreamOption) (*Stream, error) {
	o, err := newStreamOptions(opts)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	s := &Stream{c: c, opts: o, ctx: ctx, stop: stop,
		pending: make(map[int64]chan *frame), calls: make(map[string]*callState)}
	s.red.Store(c.red)
	s.log = slog.New(redactingHandler{next: c.log.Handler(), red: &s.red})
	ws, err := wsstream.Start(ctx, wsstream.Config[*Event]{
		Vendor:       Vendor,
		URL:          c.socketURL() + "?application_name=pbxkit",
		HTTPClient:   c.socketClient(),
		Redactor:     c.red,
		Logger:       s.log,
		PingInterval: o.pingInterval,
		PongTimeout:  o.pongTimeout,
		BackoffMin:   o.backoffMin,
		BackoffMax:   o.backoffMax,
		Buffer:       o.buffer,
		Pacer:        c.pacer,
		OnConnect:    s.connected,
		OnNotice:     s.noticed,
		Decode:       s.decode,
	})
	if err != nil {
		s.shutdown()
		return nil, err
	}
	s.ws = ws
	s.live.Store(ws)
	return s, nil
}

// drop ends the current connection as lost, with cause as the
// disconnect's error: the stream reconnects, authenticates and subscribes
// again, and says there may be a gap.
func (s *Stream) drop(cause error) {
	if ws := s.live.Load(); ws != nil {
		ws.Drop(cause)
	}
}

// socketClient performs the socket handshakes: the client's transport, the
// engine's dial timeout, and no redirects.
func (c *Client) socketClient() *http.Client {
	return &http.Client{Timeout: wsstream.DefaultDialTimeout, Transport: c.http.Transport,
		CheckRedirect: c.http.CheckRedirect}
}

// Events delivers every event frame: calls, agent status, user state,
// notifications, errors and the ones this package does not know; not
// hello, which the stream takes for itself (it echoes the token). Replies
// go to the requests that wait for them. It is closed when the stream
// stops. Read either Events or [Stream.Source]'s
// events, not both.
func (s *Stream) Events() <-chan *Event { return s.ws.Events() }

// Notices delivers connection changes; a notice with Gap true means events
// may have been lost: reconcile with the active calls (REST).
func (s *Stream) Notices() <-chan voip.Notice { return s.ws.Notices() }

// Dropped returns how many events were dropped because the consumer was too
// slow.
func (s *Stream) Dropped() uint64 { return s.ws.Dropped() }

// Err reports why the stream stopped: nil after Close or a cancelled
// context, the permanent error (a refused token, no licence) otherwise.
func (s *Stream) Err() error { return s.ws.Err() }

// Close stops the stream and waits for its goroutines. Requests waiting for
// a reply fail. It always returns nil.
func (s *Stream) Close() error {
	s.stop()
	err := s.ws.Close()
	s.shutdown()
	return err
}

// shutdown stops the pinger and fails the waiting requests once the stream
// has stopped.
func (s *Stream) shutdown() {
	s.stop()
	s.mu.Lock()
	if s.pinger != nil {
		s.pinger()
		s.pinger = nil
	}
	s.failPending()
	s.mu.Unlock()
	s.wg.Wait()
}

// Call places a call from the socket's user to destination (call_invite:
// the user's phone rings first, then destination) and returns the new
// call's id. destination is sent as given (an extension, a number in the
// form the tenant's dialplan expects). call_invite is sent at most once:
// when it may have left and no reply came (the connection was lost, the
// request timeout or ctx ended), the error matches voip.ErrAmbiguous and
// the call may be ringing; it is never repeated. A FAIL reply is a
// *voip.APIError with the engine's AppError.
func (s *Stream) Call(ctx context.Context, destination string) (string, error) {
	destination = strings.TrimSpace(destination)
	if destination == "" {
		return "", sockArgError("Call", "destination", errors.New("empty"))
	}
	var out struct {
		ID string `json:"id"`
	}
	data, err := s.request(ctx, "call_invite", map[string]any{"destination": destination}, true)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		// It went through, and the engine says so; only its id is missing.
		return "", &voip.APIError{Vendor: Vendor, Method: "call_invite", Kind: voip.ErrBadResponse,
			Message: "the reply carries no call id", Body: frameExcerpt(data)}
	}
	return out.ID, nil
}

// Hangup ends a call this stream has seen (call_hangup). Like Hold, Unhold
// and DTMF, it needs the call's app_id, which the stream learns from the
// call's events and from the call list subscribe_call answers; for a call
// it does not know the error matches ErrUnknownCall and nothing is sent
// (Client.HangupCall needs no app_id).
func (s *Stream) Hangup(ctx context.Context, callID string) error {
	return s.control(ctx, "Hangup", "call_hangup", callID, nil)
}

// Hold puts a call this stream has seen on hold (call_hold); see Hangup.
func (s *Stream) Hold(ctx context.Context, callID string) error {
	return s.control(ctx, "Hold", "call_hold", callID, nil)
}

// Unhold resumes a held call (call_unhold); see Hangup.
func (s *Stream) Unhold(ctx context.Context, callID string) error {
	return s.control(ctx, "Unhold", "call_unhold", callID, nil)
}

// DTMF sends digits (0-9, *, #, A-D) on a call this stream has seen, one
// call_dtmf request per digit, in order, stopping at the first failure;
// see Hangup. The engine sends one digit per request (the first character
// of dtmf); the socket is the way to send DTMF, the REST one drops single
// digits.
func (s *Stream) DTMF(ctx context.Context, callID, digits string) error {
	if digits == "" {
		return sockArgError("DTMF", "digits", errors.New("empty"))
	}
	for _, d := range digits {
		if !strings.ContainsRune("0123456789*#ABCDabcd", d) {
			return sockArgError("DTMF", "digits", fmt.Errorf("%q is not a DTMF digit", d))
		}
	}
	for _, d := range digits {
		if err := s.control(ctx, "DTMF", "call_dtmf", callID, map[string]any{"dtmf": string(d)}); err != nil {
			return err
		}
	}
	return nil
}

// control sends a call control action that needs the call's app_id.
func (s *Stream) control(ctx context.Context, fn, action, callID string, extra map[string]any) error {
	callID = strings.TrimSpace(callID)
	if callID == "" {
		return sockArgError(fn, "callID", errors.New("empty"))
	}
	appID := s.appID(callID)
	if appID == "" {
		return sockArgError(fn, "callID", fmt.Errorf("%w: %s (no app_id seen for it)", ErrUnknownCall, callID))
	}
	data := map[string]any{"id": callID, "app_id": appID}
	for k, v := range extra {
		data[k] = v
	}
	_, err := s.request(ctx, action, data, false)
	return err
}

// AgentOnline puts the contact-centre agent agentID online
// (cc_agent_online), on demand or not.
func (s *Stream) AgentOnline(ctx context.Context, agentID int64, onDemand bool) error {
	return s.agent(ctx, "AgentOnline", "cc_agent_online", agentID, map[string]any{"on_demand": onDemand})
}

// AgentPause pauses the agent (cc_agent_pause) with a reason (payload, may
// be empty).
func (s *Stream) AgentPause(ctx context.Context, agentID int64, payload string) error {
	return s.agent(ctx, "AgentPause", "cc_agent_pause", agentID, map[string]any{"payload": payload})
}

// AgentOffline takes the agent offline (cc_agent_offline).
func (s *Stream) AgentOffline(ctx context.Context, agentID int64) error {
	return s.agent(ctx, "AgentOffline", "cc_agent_offline", agentID, nil)
}

// agent sends an agent action. agent_id goes as a JSON number: the engine
// reads it as a float64 and refuses a string (engine wsapi/agent.go).
func (s *Stream) agent(ctx context.Context, fn, action string, agentID int64, extra map[string]any) error {
	if agentID <= 0 {
		return sockArgError(fn, "agentID", errors.New("want an agent id"))
	}
	data := map[string]any{"agent_id": agentID}
	for k, v := range extra {
		data[k] = v
	}
	_, err := s.request(ctx, action, data, false)
	return err
}

// argError is an argument refused before anything was sent.
func sockArgError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}
