package wsstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// A Stream of vendor events is a voip.Source once T is voip.Event.
var _ voip.Source = (*Stream[voip.Event])(nil)

// maxLoggedFrame is how much of a malformed frame a Debug line shows.
const maxLoggedFrame = 256

// Stream is a reconnecting WebSocket event stream. Create it with [Start];
// stop it with Close or by cancelling Start's context. All methods are safe
// for concurrent use.
type Stream[T any] struct {
	cfg Config[T]
	red *redact.Redactor
	log *slog.Logger
	url string // the redacted URL, for errors and logs

	ctx    context.Context // the stream's life; cancelled by Close
	cancel context.CancelFunc
	leave  func()        // counts the stream out of its Pacer
	done   chan struct{} // closed once every goroutine has ended

	events  chan T
	notices chan voip.Notice
	emit    func(T) // s.push, bound once so that Decode calls do not allocate

	mu        sync.Mutex
	conn      *websocket.Conn // the current connection; nil while reconnecting
	dropCause error           // why Drop ended the current connection
	err       error           // the permanent error that stopped the stream

	dropped   atomic.Uint64
	malformed atomic.Uint64

	srcMu    sync.Mutex
	src      *source[T]                // the stream as a voip.Source, once asked for
	finished bool                      // events closed; under srcMu
	srcLive  atomic.Pointer[source[T]] // src, once the queue moved to it: the reader's fast path

	// overflow is true during an overflow episode. Only the reader touches it.
	overflow bool
}

// Start dials cfg.URL and runs OnConnect once, synchronously. It returns the
// stream once that first connection is up, or the error of that first
// attempt, with nothing left running: a caller with a wrong key learns it at
// once rather than from a notice. Later failures are retried in the
// background. ctx bounds the stream's whole life; cancelling it stops the
// stream like Close.
//
// With cfg.KeepTrying, only a permanent failure of the first attempt (see
// OnConnect) is returned: after any other, Start returns the stream, a
// voip.NoticeDisconnected (Attempt 1) carries the failure, and the stream
// retries in the background exactly as after a lost connection.
//
// A failed handshake is a *voip.APIError carrying the HTTP status (401 and
// 403 match voip.ErrUnauthorized and voip.ErrForbidden); a dial that got no
// answer matches voip.ErrUnreachable. A ctx that ends first gives ctx.Err()
// itself. Every error is redacted.
func Start[T any](ctx context.Context, cfg Config[T]) (*Stream[T], error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	s := newStream(ctx, cfg)
	if err := ctx.Err(); err != nil {
		s.abort()
		return nil, err // nothing was dialled
	}
	ws, err := s.connect(false)
	switch {
	case err == nil:
		go s.run(ws, nil)
		return s, nil
	case ctx.Err() != nil:
		s.abort()
		return nil, ctx.Err()
	case cfg.KeepTrying && !isPermanent(err):
		s.log.Warn("wsstream: first connection failed, retrying", slog.String("url", s.url), slog.Any("err", err))
		go s.run(nil, err)
		return s, nil
	}
	s.abort()
	s.log.Warn("wsstream: first connection failed", slog.String("url", s.url), slog.Any("err", err))
	return nil, err
}

// newStream builds the stream of a normalized cfg, not connected yet, and
// counts it in its Pacer. It must be ended by run or abort.
func newStream[T any](ctx context.Context, cfg Config[T]) *Stream[T] {
	red := cfg.Redactor.With(secretsIn(cfg.Redactor, cfg.URL, cfg.Header)...)
	s := &Stream[T]{
		cfg:     cfg,
		red:     red,
		log:     newLogger(cfg.Logger, red).With(slog.String("vendor", cfg.Vendor)),
		url:     red.URLString(cfg.URL),
		done:    make(chan struct{}),
		events:  make(chan T, cfg.Buffer),
		notices: make(chan voip.Notice, noticeBuffer),
	}
	s.emit = s.push
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.leave = cfg.Pacer.join()
	return s
}

// abort releases a stream whose run never started.
func (s *Stream[T]) abort() {
	s.cancel()
	s.leave()
}

// Events delivers the decoded events in order. It is closed when the stream
// stops. See [Policy] for what happens when it is not drained.
func (s *Stream[T]) Events() <-chan T { return s.events }

// Notices delivers connection changes: voip.NoticeConnected (Gap true on
// every connect but the first), voip.NoticeDisconnected (with the redacted
// cause) and voip.NoticeDropped. It holds 16; when full, the oldest notice is
// dropped, never an event. It is closed when the stream stops.
func (s *Stream[T]) Notices() <-chan voip.Notice { return s.notices }

// Send writes one message on the current connection. It returns
// ErrNotConnected while the stream reconnects (the message is not queued:
// a vendor subscription belongs in OnConnect, which runs on every connect)
// and ErrClosed once the stream has stopped. As with any coder/websocket
// write, a ctx that expires mid-write closes the connection, and the stream
// reconnects.
func (s *Stream[T]) Send(ctx context.Context, typ websocket.MessageType, data []byte) error {
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		// Checked here because a write under a dead context closes the
		// connection in coder/websocket.
		return err
	}
	s.mu.Lock()
	ws := s.conn
	s.mu.Unlock()
	if ws == nil {
		return ErrNotConnected
	}
	if err := ws.Write(ctx, typ, data); err != nil {
		if s.ctx.Err() != nil {
			return ErrClosed
		}
		return s.red.Error(fmt.Errorf("%s: send: %w", s.cfg.Vendor, err))
	}
	return nil
}

// Drop ends the current connection at once, as if it were lost: the stream
// reconnects (OnConnect runs again, the notices say there may be a gap) and
// cause is the disconnect's error. It is for what a vendor's protocol
// knows and the engine does not: an application ping left unanswered, or
// a message that ends the session. It may be called from Decode. Without
// a connection, or after Close, it does nothing.
func (s *Stream[T]) Drop(cause error) {
	if cause == nil {
		cause = errors.New("dropped")
	}
	s.mu.Lock()
	ws := s.conn
	if ws != nil && s.dropCause == nil {
		s.dropCause = cause
	}
	s.mu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
}

// Dropped returns how many events the DropOldest policy has dropped so far.
func (s *Stream[T]) Dropped() uint64 { return s.dropped.Load() }

// Malformed returns how many messages Decode rejected (or panicked on) so
// far.
func (s *Stream[T]) Malformed() uint64 { return s.malformed.Load() }

// Err reports why the stream stopped: nil after Close or a cancelled
// context, the permanent error otherwise. It is meaningful once Events is
// closed.
func (s *Stream[T]) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the stream: it closes the connection with a normal closure
// (falling back to an abrupt close if the handshake fails) and waits for
// every goroutine to end. It is idempotent and always returns nil; the
// reason a stream stopped by itself is in Err. A peer that never answers
// the close handshake can hold Close for up to coder/websocket's 10 s
// handshake bound.
func (s *Stream[T]) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// connect waits for the Pacer's turn, then dials and runs OnConnect, both
// under ConnectTimeout, and makes the connection the current one. The turn
// is waited first so that a queue at the Pacer never eats into
// ConnectTimeout. On failure the socket is closed and the error is
// redacted; a stream stopped while waiting gives its context's error.
func (s *Stream[T]) connect(reconnect bool) (*websocket.Conn, error) {
	if !s.cfg.Pacer.wait(s.ctx, s.cfg.sleep) {
		return nil, s.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout)
	defer cancel()
	ws, resp, err := s.cfg.Dial(ctx, s.cfg.URL, &websocket.DialOptions{
		HTTPClient: s.cfg.HTTPClient,
		HTTPHeader: s.cfg.Header.Clone(),
	})
	if err != nil {
		return nil, s.dialError(err, resp)
	}
	if ws == nil {
		return nil, s.dialError(errors.New("the dialer returned no connection and no error"), resp)
	}
	// Always explicit: the library default of 32 KiB is a common surprise.
	ws.SetReadLimit(s.cfg.ReadLimit)
	c := &Conn{ws: ws, reconnect: reconnect}
	c.setup.Store(true)
	err = s.onConnect(ctx, c)
	c.setup.Store(false)
	if err != nil {
		_ = ws.CloseNow()
		return nil, s.red.Error(fmt.Errorf("%s: OnConnect: %w", s.cfg.Vendor, err))
	}
	// Published here, not in serve, so that Send works as soon as Start
	// returns.
	s.setConn(ws)
	return ws, nil
}

// onConnect runs the vendor's hook, turning a panic into an error: the hook
// parses what the network sent, and that must never crash the program.
func (s *Stream[T]) onConnect(ctx context.Context, c *Conn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.cfg.OnConnect(ctx, c)
}

// run owns the stream after Start: it serves ws, then reconnects until the
// stream is closed or a permanent error stops it. A nil ws is a first
// attempt that failed with firstErr: run starts by reconnecting.
func (s *Stream[T]) run(ws *websocket.Conn, firstErr error) {
	var lc lifecycle
	if ws == nil {
		// A first attempt that failed: the next wait is a backoff, not the
		// spread of a fleet that lost a healthy server.
		lc = lifecycle{fails: 1, gap: true, exp: 1}
		s.notify(voip.Notice{Kind: voip.NoticeDisconnected, Err: firstErr, Attempt: lc.fails})
		if ws = s.reconnect(&lc.fails, &lc.exp); ws == nil {
			s.finish()
			return
		}
	}
	s.live(ws, lc)
}

// lifecycle is what the reconnect loop carries from one connection to the
// next.
type lifecycle struct {
	fails int  // failed attempts in a row, for notices and logs
	exp   int  // backoff exponent, reset only by a healthy connection
	gap   bool // false only for a first attempt that connected
}

// live is the reader goroutine of one connection. When the connection is
// lost it reconnects, and hands the new connection to a goroutine of its
// own before it ends: an idle stream's reader then never keeps the stack
// that dialling and error handling grew (8 KiB more a stream after a
// reconnect, which the garbage collector does not shrink back).
func (s *Stream[T]) live(ws *websocket.Conn, lc lifecycle) {
	s.log.Info("wsstream: connected", slog.String("url", s.url), slog.Bool("gap", lc.gap), slog.Int("failed_attempts", lc.fails))
	s.notify(voip.Notice{Kind: voip.NoticeConnected, Gap: lc.gap, Attempt: lc.fails})
	lc.gap, lc.fails = true, 0

	start := time.Now()
	frames, err := s.serve(ws)
	if s.ctx.Err() != nil {
		s.finish()
		return
	}
	lived := time.Since(start)
	if healthy(lived, frames, s.cfg.HealthyAfter) {
		lc.exp = 0
	}
	s.log.Warn("wsstream: disconnected", slog.Any("err", err), slog.Duration("lived", lived), slog.Uint64("frames", frames))
	s.notify(voip.Notice{Kind: voip.NoticeDisconnected, Err: err})
	if ws = s.reconnect(&lc.fails, &lc.exp); ws == nil {
		s.finish()
		return
	}
	go s.live(ws, lc)
}

// healthy reports whether a connection proved the server well: it stayed
// up for healthyAfter, or it delivered a data message. Either resets the
// backoff, so every server restart is met the same way; a server that
// accepts and drops at once, saying nothing, is still backed off.
func healthy(lived time.Duration, frames uint64, healthyAfter time.Duration) bool {
	return lived >= healthyAfter || frames > 0
}

// pacedSpacing is the Pacer spread from which the Pacer alone protects a
// server that is down: when every stream retries, each gets a turn about
// once per spread, so at most twice in 10 s.
const pacedSpacing = 5 * time.Second

// waitCeil is the longest wait before reconnect attempt exp. Exponent 0 is
// the first attempt after a healthy connection dropped: the wait is drawn
// over the Pacer's spread (at least BackoffMin), so that the streams of a
// restarted server reach the Pacer at about the rate it lets them through,
// rather than all queue at once. Later ones back off: min(BackoffMax,
// BackoffMin·2ᵉˣᵖ), but no longer than half a spread of pacedSpacing or
// more: that Pacer already spaces the attempts, and a longer backoff would
// only hold the fleet's last streams back long after the server returned.
func (s *Stream[T]) waitCeil(exp int) time.Duration {
	spread := s.cfg.Pacer.Spread()
	if exp == 0 {
		return max(s.cfg.BackoffMin, spread)
	}
	ceil := backoffCeil(exp, s.cfg.BackoffMin, s.cfg.BackoffMax)
	if spread >= pacedSpacing {
		ceil = max(s.cfg.BackoffMin, min(ceil, spread/2))
	}
	return ceil
}

// reconnect waits and dials until a connection is up, and returns it; or
// nil once the stream is closed or a permanent error stopped it. fails and
// exp carry the failure count and the backoff exponent across calls.
func (s *Stream[T]) reconnect(fails, exp *int) *websocket.Conn {
	for {
		wait := s.cfg.jitter(s.waitCeil(*exp))
		*exp = min(*exp+1, 64) // beyond this the cap rules anyway
		s.log.Warn("wsstream: reconnecting", slog.Duration("wait", wait), slog.Int("failed_attempts", *fails))
		if !s.cfg.sleep(s.ctx, wait) {
			return nil
		}
		ws, err := s.connect(true)
		if err == nil {
			return ws
		}
		if s.ctx.Err() != nil {
			return nil
		}
		*fails++
		if isPermanent(err) {
			s.stop(err, *fails)
			return nil
		}
		s.log.Warn("wsstream: reconnect failed", slog.Any("err", err), slog.Int("failed_attempts", *fails))
	}
}

// stop records a permanent error and says so.
func (s *Stream[T]) stop(err error, fails int) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.log.Error("wsstream: stopped by a permanent error", slog.Any("err", err), slog.Int("failed_attempts", fails))
	s.notify(voip.Notice{Kind: voip.NoticeStopped, Err: err, Attempt: fails})
}

// finish releases everything once run ends. s.err is set before Events is
// closed, so a consumer that sees the close can read Err.
func (s *Stream[T]) finish() {
	s.cancel()
	s.leave()
	s.srcMu.Lock()
	s.finished = true
	close(s.events)
	if s.src != nil {
		close(s.src.events)
	}
	s.srcMu.Unlock()
	close(s.notices)
	s.log.Debug("wsstream: stopped", slog.Uint64("dropped", s.dropped.Load()), slog.Uint64("malformed", s.malformed.Load()))
	close(s.done)
}

// serve reads ws on the calling goroutine while a keeper pings it and
// closes it on shutdown. It returns how many data messages it read and,
// redacted, why the connection ended.
func (s *Stream[T]) serve(ws *websocket.Conn) (uint64, error) {
	k := keep(s.ctx, ws, s.cfg.PingInterval, s.cfg.PongTimeout)
	frames, err := s.read(ws)
	s.mu.Lock()
	s.conn = nil
	if s.dropCause != nil {
		err, s.dropCause = s.dropCause, nil
	}
	s.mu.Unlock()
	dead := k.stop() // closes ws
	if dead != nil {
		err = dead
	}
	s.log.Debug("wsstream: connection ended", slog.Uint64("frames", frames), slog.Int("close_status", int(websocket.CloseStatus(err))))
	return frames, s.red.Error(fmt.Errorf("%s: connection lost: %w", s.cfg.Vendor, err))
}

func (s *Stream[T]) setConn(ws *websocket.Conn) {
	s.mu.Lock()
	s.conn = ws
	s.mu.Unlock()
}

// read is the connection's only reader. Its context never expires: in
// coder/websocket an expired read context closes the connection, so
// idleness is the keeper's business, and shutdown closes the socket.
func (s *Stream[T]) read(ws *websocket.Conn) (uint64, error) {
	ctx := context.Background()
	var frames uint64
	for {
		// A fresh slice per message: decoders keep raw bytes (Event.Raw),
		// and a reused buffer would change them under the consumer's feet.
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return frames, err
		}
		frames++
		s.decode(typ, data)
	}
}

// decode runs Decode on one message. A rejected or panicking message is
// counted and logged, never fatal: one odd frame from a vendor must not tear
// down the stream.
func (s *Stream[T]) decode(typ websocket.MessageType, data []byte) {
	defer func() {
		if r := recover(); r != nil {
			n := s.malformed.Add(1)
			s.log.Warn("wsstream: Decode panicked, message skipped", slog.String("panic", fmt.Sprint(r)),
				slog.Any("type", typ), slog.Int("size", len(data)), slog.Uint64("malformed", n))
			if s.log.Enabled(s.ctx, slog.LevelDebug) { // the stack and its redaction cost a millisecond
				s.log.Debug("wsstream: Decode panic", slog.String("stack", string(debug.Stack())), slog.String("data", s.excerpt(data)))
			}
		}
	}()
	if err := s.cfg.Decode(typ, data, s.emit); err != nil {
		n := s.malformed.Add(1)
		s.log.Warn("wsstream: malformed message skipped", slog.Any("err", s.red.Error(err)),
			slog.Any("type", typ), slog.Int("size", len(data)), slog.Uint64("malformed", n))
		if s.log.Enabled(s.ctx, slog.LevelDebug) {
			s.log.Debug("wsstream: malformed message", slog.String("data", s.excerpt(data)))
		}
	}
}

// excerpt returns the start of a message for a Debug line, redacted.
func (s *Stream[T]) excerpt(data []byte) string {
	if len(data) > 2*maxLoggedFrame {
		data = data[:2*maxLoggedFrame] // the cut below is the one that shows; this one only bounds the work
	}
	return s.red.Excerpt(strings.ToValidUTF8(string(data), "�"), maxLoggedFrame)
}

// deliver is push for any channel. Only the reader calls it (through
// Decode), so the drop loop below cannot race another producer and always
// ends.
func deliver[T, U any](s *Stream[T], ch chan U, ev U) {
	if s.cfg.Policy == Block {
		select {
		case ch <- ev:
		case <-s.ctx.Done(): // stopping: nobody is going to read it
		}
		return
	}
	// An overflow episode ends once the consumer has drained half the
	// buffer; the next overflow then gets a notice of its own. Ending it on
	// the first successful push would send a notice per event.
	if s.overflow && len(ch) <= cap(ch)/2 {
		s.overflow = false
		s.log.Info("wsstream: consumer caught up", slog.Uint64("dropped", s.dropped.Load()))
	}
	for {
		select {
		case ch <- ev:
			return
		default:
		}
		select {
		case <-ch:
			n := s.dropped.Add(1)
			if !s.overflow {
				s.overflow = true
				s.log.Warn("wsstream: consumer too slow, dropping the oldest events",
					slog.Int("buffer", cap(ch)), slog.Uint64("dropped", n))
				s.notify(voip.Notice{Kind: voip.NoticeDropped, Gap: true})
			}
		default: // the consumer took one meanwhile; try again
		}
	}
}

// notify sends a notice, dropping the oldest unread one when the channel is
// full: notices must never block the reader. Only the live goroutine calls
// it, so the loop always ends.
func (s *Stream[T]) notify(n voip.Notice) {
	n.At = time.Now().UTC()
	n.Dropped = s.dropped.Load()
	if s.cfg.OnNotice != nil {
		s.cfg.OnNotice(n)
	}
	for {
		select {
		case s.notices <- n:
			return
		default:
		}
		select {
		case <-s.notices:
		default:
		}
	}
}

// secretsIn returns the values of the secret query parameters, userinfo
// password and secret headers of the stream's URL and Header, so that they
// are hidden even where they appear without their name (an echo in a
// vendor's error body, an escaped copy in a transport error). Which names are
// secret is left to the redact package's rules: a value it masks is secret.
func secretsIn(r *redact.Redactor, rawURL string, h http.Header) []string {
	var out []string
	add := func(name string, values []string) {
		if masked := r.Header(http.Header{name: values}); len(masked[name]) == 0 || masked[name][0] != redact.Mask {
			return
		}
		for _, v := range values {
			out = append(out, v)
			// "Bearer xyz": the bare token can appear on its own too.
			if _, tok, ok := strings.Cut(v, " "); ok {
				out = append(out, strings.TrimSpace(tok))
			}
		}
	}
	if u, err := url.Parse(rawURL); err == nil {
		for name, values := range u.Query() {
			add(name, values)
		}
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	for name, values := range h {
		add(name, values)
	}
	return out
}
