package phonet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/pbxkit/pbxkit/voip"
)

// startWorkers is how many first connections a Hub opens at once; the
// shared dial rate paces them anyway, this only bounds the goroutines.
const startWorkers = 16

// HubNotice is a connection change of one of a Hub's sockets.
type HubNotice struct {
	Subscriber string
	voip.Notice
}

// Hub watches many subscribers, one socket each, as one stream: a CRM that
// follows every manager. Events of all sockets come out of one channel,
// each carrying its Subscriber; connection attempts share one rate limit
// (see [WithDialRate]) on top of each socket's jittered backoff, so a
// server restart does not bring every socket back in the same instant.
type Hub struct {
	events  chan *Event
	notices chan HubNotice

	streams map[string]*Stream // fixed once Watch returns
	failed  map[string]error

	dropped  atomic.Uint64
	overflow atomic.Bool
	noticeMu sync.Mutex // serialises the drop-oldest of notices

	closeOnce sync.Once
	closing   chan struct{}
	done      chan struct{}
}

// Watch subscribes to every subscriber (extensions or emails, as from
// [Client.Users]) and merges their events. Sockets are opened in parallel,
// at the shared dial rate; Watch returns once each first attempt is over.
// A subscriber whose first attempt failed is left out and reported by
// [Hub.Failed]; Watch fails only when none connected. ctx bounds the Hub's
// life; Close stops it.
//
// Options are those of Subscribe; WithBuffer sizes the merged channel
// (default 256 plus one per subscriber).
func (c *Client) Watch(ctx context.Context, subscribers []string, opts ...StreamOption) (*Hub, error) {
	o, err := newStreamOptions(opts)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(subscribers))
	var subs []string
	for _, s := range subscribers {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 {
		return nil, errors.New("phonet: Watch: no subscribers")
	}
	buffer := o.buffer
	if buffer == 0 {
		buffer = 256 + len(subs)
	}
	h := &Hub{
		events: make(chan *Event, buffer), notices: make(chan HubNotice, 64+2*len(subs)), // a restart is a disconnect and a connect per socket
		streams: make(map[string]*Stream, len(subs)), failed: map[string]error{},
		closing: make(chan struct{}), done: make(chan struct{}),
	}
	lim := rate.NewLimiter(o.dialRate, o.dialBurst)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(startWorkers, len(subs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range next {
				st, err := c.subscribe(ctx, sub, o, lim, h.push, h.forward)
				mu.Lock()
				if err != nil {
					h.failed[sub] = err
				} else {
					h.streams[sub] = st
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range subs {
		next <- s
	}
	close(next)
	wg.Wait()
	if len(h.streams) == 0 {
		h.closeStreams()
		return nil, fmt.Errorf("phonet: Watch: no subscriber connected: %w", errors.Join(h.failedErrors()...))
	}
	go h.stopWith(ctx)
	return h, nil
}

// failedErrors returns the first-attempt errors, at most a few, for a
// readable message.
func (h *Hub) failedErrors() []error {
	var errs []error
	for _, err := range h.failed {
		if len(errs) == 3 {
			errs = append(errs, fmt.Errorf("and %d more", len(h.failed)-3))
			break
		}
		errs = append(errs, err)
	}
	return errs
}

// stopWith closes the Hub when ctx ends.
func (h *Hub) stopWith(ctx context.Context) {
	select {
	case <-ctx.Done():
		_ = h.Close()
	case <-h.closing:
	}
}

// push takes one event from any socket's reader. It never waits: when the
// merged channel is full the new event is dropped and counted, and one
// notice (Gap true) marks the episode.
func (h *Hub) push(ev *Event) {
	if h.overflow.Load() && len(h.events) <= cap(h.events)/2 {
		h.overflow.Store(false)
	}
	select {
	case h.events <- ev:
	default:
		n := h.dropped.Add(1)
		if h.overflow.CompareAndSwap(false, true) {
			h.notify(HubNotice{Subscriber: ev.Subscriber, Notice: voip.Notice{Kind: voip.NoticeDropped, Gap: true, At: time.Now(), Dropped: n}})
		}
	}
}

// forward passes on a notice of one socket. After a reconnect Gap is true:
// reconcile that subscriber's calls with ActiveCalls.
func (h *Hub) forward(sub string, n voip.Notice) {
	h.notify(HubNotice{Subscriber: sub, Notice: n})
}

// notify queues n, dropping the oldest notice when the channel is full.
func (h *Hub) notify(n HubNotice) {
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
// is closed when the Hub stops.
func (h *Hub) Events() <-chan *Event { return h.events }

// Notices delivers each socket's connects (Gap true after a reconnect) and
// disconnects, and the Hub's overflows. It is closed when the Hub stops.
func (h *Hub) Notices() <-chan HubNotice { return h.notices }

// Dropped returns how many events the Hub dropped because its consumer was
// too slow.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Failed returns the subscribers whose first connection failed, with why.
func (h *Hub) Failed() map[string]error {
	out := make(map[string]error, len(h.failed))
	for k, v := range h.failed {
		out[k] = v
	}
	return out
}

// Subscribers returns how many sockets the Hub runs.
func (h *Hub) Subscribers() int { return len(h.streams) }

// Stream returns the socket of one subscriber, or nil. Its events go to the
// Hub's channel, not its own; use it for Call, Dropped and Err.
func (h *Hub) Stream(subscriber string) *Stream { return h.streams[subscriber] }

// Call places a click2call from subscriber's socket; see [Stream.Call].
func (h *Hub) Call(ctx context.Context, subscriber, to string) error {
	st := h.streams[subscriber]
	if st == nil {
		return fmt.Errorf("phonet: Hub.Call: %q is not watched: %w", subscriber, ErrNotConnected)
	}
	return st.Call(ctx, to)
}

// Close stops every socket, waits for them, and closes the channels. It is
// idempotent and returns nil.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.noticeMu.Lock()
		close(h.closing)
		h.noticeMu.Unlock()
		h.closeStreams()
		close(h.events)
		close(h.notices)
		close(h.done)
	})
	<-h.done
	return nil
}

// closeStreams closes the sockets in parallel: each Close waits for a
// close handshake.
func (h *Hub) closeStreams() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, st := range h.streams {
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
