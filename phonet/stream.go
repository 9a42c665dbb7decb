package phonet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

const pathLive = "/live/connector/v3/easy"

// Errors of a live socket's click2call.
var (
	// ErrNotConnected: the socket is reconnecting; the click2call was not
	// sent. Try again after the next connected notice.
	ErrNotConnected = errors.New("phonet: socket not connected")
	// ErrClosed: the stream has stopped.
	ErrClosed = errors.New("phonet: stream closed")
)

// DefaultCallTimeout is how long [Stream.Call] waits for Phonet's reply.
const DefaultCallTimeout = 10 * time.Second

// StreamOption configures [Client.Subscribe] and [Client.Watch].
type StreamOption func(*streamOptions) error

type streamOptions struct {
	pingInterval, pongTimeout time.Duration
	backoffMin, backoffMax    time.Duration
	buffer                    int
	callTimeout               time.Duration
}

// WithPing pings the server every interval and declares the connection dead
// when a pong takes longer than timeout (defaults 25 s and 10 s). Phonet
// documents no keep-alive; protocol pings are what its public clients rely on.
func WithPing(interval, timeout time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if interval <= 0 || timeout <= 0 {
			return fmt.Errorf("phonet: WithPing(%v, %v): both must be positive", interval, timeout)
		}
		o.pingInterval, o.pongTimeout = interval, timeout
		return nil
	}
}

// WithBackoff bounds the wait before a reconnect (defaults 1 s and 30 s).
// The wait doubles after each failure and is drawn at random below that
// ceiling, so that sockets dropped together do not come back together.
func WithBackoff(min, max time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if min <= 0 || max < min {
			return fmt.Errorf("phonet: WithBackoff(%v, %v): want 0 < min ≤ max", min, max)
		}
		o.backoffMin, o.backoffMax = min, max
		return nil
	}
}

// WithBuffer sets the capacity of the events channel (default 256). When
// the consumer falls behind, the oldest events are dropped (the newest on a
// Hub) and a notice with Gap says so.
func WithBuffer(n int) StreamOption {
	return func(o *streamOptions) error {
		if n <= 0 {
			return fmt.Errorf("phonet: WithBuffer(%d): must be positive", n)
		}
		o.buffer = n
		return nil
	}
}

// WithCallTimeout sets how long [Stream.Call] waits for the reply (default
// 10 s).
func WithCallTimeout(d time.Duration) StreamOption {
	return func(o *streamOptions) error {
		if d <= 0 {
			return fmt.Errorf("phonet: WithCallTimeout(%v): must be positive", d)
		}
		o.callTimeout = d
		return nil
	}
}

func newStreamOptions(opts []StreamOption) (streamOptions, error) {
	o := streamOptions{callTimeout: DefaultCallTimeout}
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

// Stream is one subscriber's live socket. It reconnects by itself; see the
// package doc. Its methods are safe for concurrent use.
type Stream struct {
	subscriber  string
	ws          *wsstream.Stream[*Event]
	red         *redact.Redactor // the client's: hides the apiKey
	callTimeout time.Duration
	ctx         context.Context // the stream's life: Subscribe's, ended by Close too

	calls chan struct{} // a one-slot semaphore: one click2call in flight

	mu     sync.Mutex
	waiter chan *Event // where the reply of the click2call in flight goes
	// owedUntil is set while the reply of a click2call that gave up
	// waiting may still come: until then no click2call is sent, so that a
	// late reply is never taken for the next call's. owed is closed when
	// that reply comes or the connection changes.
	owedUntil time.Time
	owed      chan struct{}

	// sink, when set (by a Hub), receives the events instead of the
	// stream's own channel.
	sink func(*Event)

	cancel func() // ends ctx: Close
}

// socketURL is wss://{domain}/live/connector/v3/easy?domain=…&apiKey=…&subscriber=…,
// on the base URL's host when WithBaseURL was given.
func (c *Client) socketURL(subscriber string) string {
	u := *c.base
	if u.Scheme == "http" {
		u.Scheme = "ws"
	} else {
		u.Scheme = "wss"
	}
	u.Path = pathLive
	q := url.Values{}
	q.Set("domain", c.domain)
	q.Set("apiKey", c.apiKey)
	q.Set("subscriber", subscriber)
	u.RawQuery = q.Encode()
	return u.String()
}

// Subscribe opens the live socket of one subscriber: an employee's
// extension ("001") or email. It returns once the first connection is up,
// or with the error of that first attempt (a rejected apiKey or subscriber
// matches voip.ErrUnauthorized or voip.ErrForbidden). ctx bounds the
// stream's life; Close stops it.
func (c *Client) Subscribe(ctx context.Context, subscriber string, opts ...StreamOption) (*Stream, error) {
	o, err := newStreamOptions(opts)
	if err != nil {
		return nil, err
	}
	return c.subscribe(ctx, subscriber, o, nil, nil, false)
}

// subscribe opens a socket. A Hub passes sink, which takes the events
// instead of the stream's channel, onNotice, and keepTrying, which turns
// a transient failure of the first attempt into a notice and a retry.
func (c *Client) subscribe(ctx context.Context, subscriber string, o streamOptions,
	sink func(*Event), onNotice func(voip.Notice), keepTrying bool) (*Stream, error) {
	subscriber = strings.TrimSpace(subscriber)
	if subscriber == "" {
		return nil, argError("Subscribe", "subscriber", errors.New("empty"))
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{subscriber: subscriber, red: c.red, callTimeout: o.callTimeout, ctx: ctx, cancel: cancel,
		calls: make(chan struct{}, 1), sink: sink}
	buffer := o.buffer
	if sink != nil {
		buffer = 1 // a Hub's events go to its own channel
	}
	ws, err := wsstream.Start(ctx, wsstream.Config[*Event]{
		Vendor:       Vendor,
		URL:          c.socketURL(subscriber),
		HTTPClient:   c.socketClient(),
		Redactor:     c.red,
		Logger:       c.log.With("subscriber", subscriber),
		PingInterval: o.pingInterval,
		PongTimeout:  o.pongTimeout,
		BackoffMin:   o.backoffMin,
		BackoffMax:   o.backoffMax,
		Buffer:       buffer,
		Pacer:        c.pacer,
		OnConnect:    s.connected,
		OnNotice:     onNotice,
		KeepTrying:   keepTrying,
		Decode:       s.decode,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	s.ws = ws
	return s, nil
}

// socketClient performs the socket handshakes: the client's transport,
// the engine's dial timeout, and no redirects (a redirect of the handshake
// is a refusal, not a way in).
func (c *Client) socketClient() *http.Client {
	return &http.Client{
		Timeout:       wsstream.DefaultDialTimeout,
		Transport:     c.http.Transport,
		CheckRedirect: c.http.CheckRedirect,
	}
}

// connected runs on every connect. A click2call waiting on the lost
// connection will get no reply: it is told at once; and no reply owed on
// the old connection can come on the new one.
func (s *Stream) connected(context.Context, *wsstream.Conn) error {
	s.mu.Lock()
	s.settleOwed()
	if s.waiter != nil {
		s.waiter <- nil
		s.waiter = nil
	}
	s.mu.Unlock()
	return nil
}

// decode reads one frame on the stream's reader goroutine.
func (s *Stream) decode(_ websocket.MessageType, data []byte, emit func(*Event)) error {
	ev, err := ParseEvent(data)
	if err != nil {
		return err
	}
	if ev.Type == EventError {
		// An error reply may quote the socket's URL, apiKey included; it
		// becomes Call's error or an event, and either may be logged.
		ev.Message = s.red.String(ev.Message)
		ev.Raw = json.RawMessage(s.red.String(string(ev.Raw)))
	}
	if (ev.Type == EventSuccess || ev.Type == EventError) && ev.UUID == "" && s.reply(ev) {
		return nil
	}
	ev.Subscriber = s.subscriber
	if s.sink != nil {
		s.sink(ev)
		return nil
	}
	emit(ev)
	return nil
}

// reply hands a success or error message to the click2call waiting for it,
// and reports whether one was. The protocol has no request id: a reply goes
// to the only call in flight. The late reply of a call that gave up
// waiting is passed on as an event, and lets the next call go.
func (s *Stream) reply(ev *Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.waiter != nil:
		s.waiter <- ev
		s.waiter = nil
		return true
	case s.owed != nil:
		s.settleOwed()
	}
	return false
}

// settleOwed ends the wait for an owed reply. The caller holds s.mu.
func (s *Stream) settleOwed() {
	if s.owed != nil {
		close(s.owed)
		s.owed, s.owedUntil = nil, time.Time{}
	}
}

// awaitOwed holds a click2call while an earlier one's reply may still
// come, for at most the call timeout after that call gave up: a reply
// later than that is taken as lost. It returns ctx's error if ctx ends
// first; nothing was sent then.
func (s *Stream) awaitOwed(ctx context.Context) error {
	s.mu.Lock()
	owed, until := s.owed, s.owedUntil
	s.mu.Unlock()
	if owed == nil {
		return nil
	}
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	select {
	case <-owed:
	case <-timer.C:
		s.mu.Lock()
		if s.owed == owed {
			s.settleOwed() // lost: later replies belong to later calls
		}
		s.mu.Unlock()
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

type callRequest struct {
	Action string `json:"action"`
	To     string `json:"to"`
}

// Call places a click2call from the subscriber to the number to, and waits
// for Phonet's reply. to is read by voip.NormalizePhone (national numbers
// as Ukrainian ones) and sent as international digits without "+", as the
// seed article writes it ("380991234567"); an internal number of up to six
// digits goes as typed. A number that is not one is a *voip.ArgError, and
// nothing is sent.
//
// An "error" reply is a *voip.APIError matching voip.ErrBadRequest with
// Phonet's message. No reply within the call timeout, or a connection lost
// meanwhile, matches voip.ErrAmbiguous: the call may be ringing.
//
// The protocol has no request id, so replies are matched by order: one
// click2call is in flight per socket (others wait their turn), and its
// reply is the next success or error message. When a call gives up waiting
// (timeout or ctx) its reply is still owed: the next click2call is held
// until that reply comes (it is then passed on as an event) or one more
// call timeout has passed (it is then taken as lost). So a late reply is
// never taken for the next call's, and a lost one never shifts the
// matching of later calls. A reconnect settles every owed reply.
func (s *Stream) Call(ctx context.Context, to string) error {
	number, err := voip.NormalizePhone(to, region)
	if err != nil {
		return argError("Call", "to", err)
	}
	number = strings.TrimPrefix(number, "+")
	if err := ctx.Err(); err != nil {
		return err // nothing was sent
	}
	select {
	case s.calls <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.calls }()
	if err := s.awaitOwed(ctx); err != nil {
		return err
	}

	reply := s.expect()
	body, _ := json.Marshal(callRequest{Action: "call", To: number}) // cannot fail on two strings
	if err := s.ws.Send(ctx, websocket.MessageText, body); err != nil {
		s.abandon(reply, false)
		switch {
		case errors.Is(err, wsstream.ErrNotConnected):
			return ErrNotConnected
		case errors.Is(err, wsstream.ErrClosed):
			return ErrClosed
		case err == ctx.Err():
			return err // refused before writing: nothing was sent
		}
		return &voip.APIError{Vendor: Vendor, Kind: voip.ErrAmbiguous, Message: "click2call write failed", Err: err}
	}
	timer := time.NewTimer(s.callTimeout)
	defer timer.Stop()
	select {
	case ev := <-reply:
		return replyError(ev)
	case <-timer.C:
		if ev, ok := s.abandon(reply, true); ok {
			return replyError(ev) // it came as the timer fired
		}
		return &voip.APIError{Vendor: Vendor, Kind: voip.ErrAmbiguous, Message: fmt.Sprintf("click2call: no reply within %v", s.callTimeout)}
	case <-ctx.Done():
		if ev, ok := s.abandon(reply, true); ok {
			return replyError(ev)
		}
		return &voip.APIError{Vendor: Vendor, Kind: voip.ErrAmbiguous, Message: "click2call: gave up waiting for the reply", Err: ctx.Err()}
	}
}

// expect makes the next success or error message the reply of the
// click2call about to be sent, and returns where it will go. The caller
// holds the call slot and awaited any owed reply.
func (s *Stream) expect() chan *Event {
	reply := make(chan *Event, 1)
	s.mu.Lock()
	s.waiter = reply
	s.mu.Unlock()
	return reply
}

// replyError is the outcome of a click2call whose reply is ev: nil (the
// connection was lost before the reply) is ambiguous.
func replyError(ev *Event) error {
	switch {
	case ev == nil:
		return &voip.APIError{Vendor: Vendor, Kind: voip.ErrAmbiguous, Message: "click2call: connection lost before the reply"}
	case ev.Type == EventError:
		return &voip.APIError{Vendor: Vendor, Kind: voip.ErrBadRequest, Message: ev.Message}
	}
	return nil
}

// abandon stops waiting for reply. When the request went out and no reply
// came yet, the reply is owed for one more call timeout (see Call). A
// reply that did come meanwhile is returned.
func (s *Stream) abandon(reply chan *Event, sent bool) (*Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiter != reply {
		return <-reply, true // reply (or connected) handed it over and cleared waiter
	}
	s.waiter = nil
	if sent {
		s.settleOwed()
		s.owed, s.owedUntil = make(chan struct{}), time.Now().Add(s.callTimeout)
	}
	return nil, false
}

// Subscriber returns the subscriber the stream watches.
func (s *Stream) Subscriber() string { return s.subscriber }

// Events delivers every message as a typed event: calls, pauses, errors,
// unknown types. It is closed when the stream stops. Read either Events or
// [Stream.Source]'s events, not both.
func (s *Stream) Events() <-chan *Event { return s.ws.Events() }

// Notices delivers connection changes; a notice with Gap true means events
// may have been lost: reconcile with [Client.ActiveCalls].
func (s *Stream) Notices() <-chan voip.Notice { return s.ws.Notices() }

// Dropped returns how many events were dropped because the consumer was
// too slow.
func (s *Stream) Dropped() uint64 { return s.ws.Dropped() }

// Err reports why the stream stopped: nil after Close or a cancelled
// context, the permanent error (a rejected apiKey) otherwise.
func (s *Stream) Err() error { return s.ws.Err() }

// Close stops the stream and waits for its goroutines. It always returns nil.
func (s *Stream) Close() error {
	s.cancel()
	return s.ws.Close()
}
