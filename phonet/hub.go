package phonet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// startWorkers is how many first connections Watch opens at once; the
// Client's dial pacing paces them anyway, this only bounds the goroutines.
const startWorkers = 16

// Hub watches many subscribers, one socket each, as one stream: a CRM that
// follows every manager. Events of all sockets come out of one channel,
// each carrying its Subscriber; notices carry it too. Its sockets share the
// Client's dial pacing with every other socket of the Client (see
// [WithDialRate]), so a server restart does not bring every socket back in
// the same instant.
//
// A socket whose connection fails, first attempt included, is retried with
// backoff until it connects: only a refusal (401, 403: a revoked apiKey, an
// unknown subscriber) stops it for good, with a voip.NoticeStopped and an
// entry in [Hub.Failed]. Managers come and go with [Hub.Add] and
// [Hub.Remove]. Its methods are safe for concurrent use.
type Hub struct {
	c *Client
	o streamOptions

	ctx    context.Context // the Hub's life; every socket's context derives from it
	cancel context.CancelFunc

	events  chan *Event
	notices chan voip.Notice

	mu      sync.Mutex
	streams map[string]*hubStream // running or starting sockets
	failed  map[string]error      // sockets refused for good
	closed  bool                  // Close has begun: nothing is added or removed any more
	err     error                 // why the Hub stopped by itself
	// changing counts the Adds and Removes in flight: Close waits for them,
	// so that no socket it does not know of still feeds the channels.
	changing sync.WaitGroup

	dropped  atomic.Uint64
	overflow atomic.Bool
	noticeMu sync.Mutex // serialises the drop-oldest of notices

	src    *voipSource // guarded by mu
	source sourceRef   // src, for the readers

	closeOnce sync.Once
	closing   chan struct{} // closed once no notice may be queued any more
	done      chan struct{}
}

// hubStream is one socket of a Hub. st is nil while its first attempt is
// under way.
type hubStream struct {
	sub    string
	st     *Stream
	cancel context.CancelFunc
}

// Watch subscribes to every subscriber (extensions or emails, as from
// [Client.Users]; blanks and repeats are ignored) and merges their events.
// Sockets are opened in parallel, at the shared dial rate; Watch returns
// once each first attempt is over. A socket whose first attempt failed
// keeps trying in the background (a voip.NoticeDisconnected says so); one
// that was refused is left out, with a voip.NoticeStopped and an entry in
// [Hub.Failed]. Watch fails only when every subscriber was refused (a wrong
// apiKey), or when ctx ends first. An empty list gives an empty Hub, to be
// filled with [Hub.Add].
//
// ctx bounds the Hub's life; Close stops it. Options are those of
// Subscribe; WithBuffer sizes the merged channel (default 256 plus one per
// subscriber).
func (c *Client) Watch(ctx context.Context, subscribers []string, opts ...StreamOption) (*Hub, error) {
	o, err := newStreamOptions(opts)
	if err != nil {
		return nil, err
	}
	var subs []string
	for _, s := range subscribers {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(subs, s) {
			subs = append(subs, s)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := newHub(ctx, c, o, len(subs))
	var (
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(startWorkers, len(subs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range next {
				if err := h.add(h.ctx, sub); err != nil && !errors.Is(err, ErrClosed) {
					h.refused(sub, err)
				}
			}
		}()
	}
	for _, s := range subs {
		next <- s
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		_ = h.Close()
		return nil, err
	}
	if len(subs) > 0 && len(h.Subscribers()) == 0 {
		_ = h.Close()
		return nil, fmt.Errorf("phonet: Watch: no subscriber connected: %w", errors.Join(h.failedErrors()...))
	}
	return h, nil
}

func newHub(ctx context.Context, c *Client, o streamOptions, n int) *Hub {
	buffer := o.buffer
	if buffer == 0 {
		buffer = 256 + n
	}
	h := &Hub{
		c: c, o: o,
		events: make(chan *Event, buffer),
		// A server restart is a disconnect and a connect per socket.
		notices: make(chan voip.Notice, max(256, 64+2*n)),
		streams: make(map[string]*hubStream, n), failed: map[string]error{},
		closing: make(chan struct{}), done: make(chan struct{}),
	}
	h.ctx, h.cancel = context.WithCancel(ctx)
	context.AfterFunc(h.ctx, func() { _ = h.Close() })
	return h
}

// Add starts watching subscriber too. It returns once the socket's first
// attempt is over: nil when it connected or keeps trying (a transient
// failure, reported by a voip.NoticeDisconnected), the error when
// Phonet refused it (an unknown subscriber matches voip.ErrForbidden).
// Adding a subscriber already watched does nothing. ctx bounds the first
// attempt only: when it ends first, nothing is added and ctx's error is
// returned. After Close, Add returns ErrClosed.
func (h *Hub) Add(ctx context.Context, subscriber string) error {
	sub := strings.TrimSpace(subscriber)
	if sub == "" {
		return argError("Hub.Add", "subscriber", errors.New("empty"))
	}
	return h.add(ctx, sub)
}

// add opens sub's socket on a context of the Hub's that ctx may cancel
// while the first attempt is under way.
func (h *Hub) add(ctx context.Context, sub string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	if _, ok := h.streams[sub]; ok {
		h.mu.Unlock()
		return nil
	}
	hs := &hubStream{sub: sub}
	sctx, cancel := context.WithCancel(h.ctx)
	hs.cancel = cancel
	h.streams[sub] = hs
	delete(h.failed, sub)
	h.changing.Add(1)
	h.mu.Unlock()
	defer h.changing.Done()

	abandon := context.AfterFunc(ctx, cancel)
	st, err := h.c.subscribe(sctx, sub, h.o, h.push, func(n voip.Notice) { h.forward(hs, n) }, true)
	abandoned := !abandon()
	h.mu.Lock()
	current := h.streams[sub] == hs
	if err == nil && current && !abandoned && !h.closed {
		hs.st = st
		h.mu.Unlock()
		return nil
	}
	if current {
		delete(h.streams, sub)
	}
	closed := h.closed
	h.mu.Unlock()
	// Removed, closed or abandoned meanwhile: whatever was started goes.
	if st != nil {
		_ = st.Close()
	}
	cancel()
	switch {
	case abandoned && ctx.Err() != nil:
		return ctx.Err()
	case closed:
		return ErrClosed
	}
	return err
}

// Remove stops watching subscriber: its socket is closed and its events
// stop. Removing a subscriber not watched does nothing.
func (h *Hub) Remove(subscriber string) {
	sub := strings.TrimSpace(subscriber)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return // Close closes every socket
	}
	hs := h.streams[sub]
	delete(h.streams, sub)
	delete(h.failed, sub)
	if hs != nil {
		h.changing.Add(1)
		defer h.changing.Done()
	}
	h.mu.Unlock()
	if hs == nil {
		return
	}
	hs.cancel() // ends a first attempt under way too
	if hs.st != nil {
		_ = hs.st.Close()
	}
}

// refused records a socket refused on its first attempt, and says so like
// a socket refused later.
func (h *Hub) refused(sub string, err error) {
	h.mu.Lock()
	h.failed[sub] = err
	h.mu.Unlock()
	h.notify(voip.Notice{Kind: voip.NoticeStopped, At: time.Now().UTC(), Err: err, Subscriber: sub,
		Dropped: h.dropped.Load()})
}

// failedErrors returns the refusals, at most a few, for a readable message.
func (h *Hub) failedErrors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := slices.Sorted(maps.Keys(h.failed))
	var errs []error
	for i, sub := range subs {
		if i == 3 {
			errs = append(errs, fmt.Errorf("and %d more", len(subs)-3))
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", sub, h.failed[sub]))
	}
	return errs
}

// push takes one event from any socket's reader. It never waits: when the
// merged channel is full the new event is dropped and counted, and one
// notice (Gap true) marks the episode.
//
// Once the Hub has a Source, the event goes there, converted.
func (h *Hub) push(ev *Event) {
	if src := h.source.Load(); src != nil {
		if v, ok := ev.Voip(); ok {
			pushNewest(h, src.events, v, ev.Subscriber)
		}
		return
	}
	pushNewest(h, h.events, ev, ev.Subscriber)
	if src := h.source.Load(); src != nil {
		// Source was made meanwhile: what this reader queued must not be
		// left behind on a channel nobody reads any more.
		h.moveQueued(src)
	}
}

// pushNewest queues v on ch, or drops it when ch is full, counting the
// drop and noticing the first of an episode. Any reader may call it.
func pushNewest[U any](h *Hub, ch chan U, v U, sub string) {
	if h.overflow.Load() && len(ch) <= cap(ch)/2 {
		h.overflow.Store(false)
	}
	select {
	case ch <- v:
	default:
		n := h.dropped.Add(1)
		if h.overflow.CompareAndSwap(false, true) {
			h.notify(voip.Notice{Kind: voip.NoticeDropped, Gap: true, At: time.Now().UTC(), Dropped: n, Subscriber: sub})
		}
	}
}

// forward passes on a notice of one socket, on that socket's goroutine.
// After a reconnect Gap is true: reconcile that subscriber's calls with
// ActiveCalls. A socket refused for good leaves the Hub; when it was the
// last one, the Hub stops with its error (every socket refused: the apiKey
// was revoked, say).
func (h *Hub) forward(hs *hubStream, n voip.Notice) {
	n.Subscriber = hs.sub
	h.notify(n)
	if n.Kind != voip.NoticeStopped {
		return
	}
	h.mu.Lock()
	last := false
	if h.streams[hs.sub] == hs {
		delete(h.streams, hs.sub)
		h.failed[hs.sub] = n.Err
		last = len(h.streams) == 0 && !h.closed
		if last {
			h.err = n.Err
		}
	}
	h.mu.Unlock()
	hs.cancel() // the socket has stopped; this releases its context
	if last {
		// Not on this goroutine: Close waits for it to end.
		go func() { _ = h.Close() }()
	}
}

// notify queues n, dropping the oldest notice when the channel is full.
func (h *Hub) notify(n voip.Notice) {
	h.noticeMu.Lock()
	defer h.noticeMu.Unlock()
	select {
	case <-h.closing:
		return // the channel is closed or about to be
	default:
	}
	for {
		select {
		case h.notices <- n:
			return
		default:
		}
		select {
		case <-h.notices:
		default:
		}
	}
}

// Events delivers the events of every socket, each with its Subscriber. It
// is closed when the Hub stops. Read either Events or [Hub.Source]'s
// events, not both.
func (h *Hub) Events() <-chan *Event { return h.events }

// Notices delivers each socket's connects (Gap true after a reconnect),
// disconnects and refusals (voip.NoticeStopped), and the Hub's overflows,
// each naming its Subscriber. It is closed when the Hub stops. When it is
// not read, the oldest notices are dropped, never events.
func (h *Hub) Notices() <-chan voip.Notice { return h.notices }

// Err reports why the Hub stopped: nil after Close or the end of Watch's
// context, the refusal of the last socket when every socket was refused.
// It is meaningful once Events is closed.
func (h *Hub) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Dropped returns how many events the Hub dropped because its consumer was
// too slow.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Failed returns the subscribers whose socket Phonet refused, with why.
// Adding one again clears its entry.
func (h *Hub) Failed() map[string]error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.failed)
}

// Subscribers returns the subscribers watched, sorted: connected, or
// trying to connect.
func (h *Hub) Subscribers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.streams))
}

// Stream returns the socket of one subscriber, or nil. Its events go to the
// Hub's channel, not its own; use it for Call, Dropped and Err.
func (h *Hub) Stream(subscriber string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hs := h.streams[subscriber]; hs != nil {
		return hs.st
	}
	return nil
}

// Call places a click2call from subscriber's socket; see [Stream.Call].
func (h *Hub) Call(ctx context.Context, subscriber, to string) error {
	st := h.Stream(subscriber)
	if st == nil {
		return fmt.Errorf("phonet: Hub.Call: %q is not watched: %w", subscriber, ErrNotConnected)
	}
	return st.Call(ctx, to)
}

// Close stops every socket, waits for them, and closes the channels. It is
// idempotent and returns nil.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.cancel()
		h.changing.Wait() // no socket is being added or removed any more
		h.mu.Lock()
		streams := make([]*Stream, 0, len(h.streams))
		for _, hs := range h.streams {
			streams = append(streams, hs.st)
		}
		h.mu.Unlock()
		closeAll(streams)
		h.noticeMu.Lock()
		close(h.closing)
		h.noticeMu.Unlock()
		close(h.events)
		close(h.notices)
		h.mu.Lock()
		if src := h.src; src != nil {
			// Every reader has ended: nothing is delivered to it any more.
			close(src.events)
			close(src.done)
		}
		h.mu.Unlock()
		close(h.done)
	})
	<-h.done
	return nil
}

// closeAll closes the sockets in parallel: each Close waits for a close
// handshake.
func closeAll(streams []*Stream) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, st := range streams {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = st.Close()
		}()
	}
	wg.Wait()
}
