package main

import (
	"fmt"
	"io"
	"sync"
)

// Sizes of a manager's feed.
const (
	// maxLog is how many messages a feed keeps for pages that reconnect
	// (Last-Event-ID); a page further behind is told it may have missed
	// calls.
	maxLog = 256
	// maxCards is how many calls a feed remembers; the oldest go first.
	maxCards = 100
)

// message is one Server-Sent Event of a manager's feed: a card's new state
// ("call") or a gap notice ("gap"). Data is one line of JSON.
type message struct {
	ID    uint64
	Event string
	Data  []byte
}

// writeTo writes m in the text/event-stream framing: id (none when ID is
// 0, so that the page's Last-Event-ID stays), event, data, and the blank
// line that ends it.
func (m message) writeTo(w io.Writer) error {
	if m.ID != 0 {
		if _, err := fmt.Fprintf(w, "id: %d\n", m.ID); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.Event, m.Data)
	return err
}

// feed is one manager's stream: the messages of their calls, numbered,
// the newest kept for resuming pages, and the state of their calls. Pages
// wait on a wake-up channel and read the log: a slow page never holds the
// others up, and one that falls too far behind gets a gap notice.
type feed struct {
	ext string

	mu      sync.Mutex
	seq     uint64
	log     []message
	cards   map[string]*card // by call id
	order   []string         // call ids, oldest first
	waiters map[chan struct{}]struct{}
	dialing bool // a click-to-call is under way
}

func newFeed(ext string) *feed {
	return &feed{ext: ext, cards: map[string]*card{}, waiters: map[chan struct{}]struct{}{}}
}

// publishLocked appends a message and wakes the pages. The caller holds
// f.mu.
func (f *feed) publishLocked(event string, data []byte) {
	f.seq++
	f.log = append(f.log, message{ID: f.seq, Event: event, Data: data})
	if len(f.log) > maxLog {
		f.log = append(f.log[:0:0], f.log[len(f.log)-maxLog:]...)
	}
	for ch := range f.waiters {
		select {
		case ch <- struct{}{}:
		default: // already woken
		}
	}
}

// since returns the messages after last. A page that gives no last (a
// first load) gets the whole log. missed is true when messages after last
// are no longer kept, or when last is not one of this feed's ids (the
// server restarted): the page may have missed calls.
func (f *feed) since(last uint64, resumed bool) (msgs []message, missed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !resumed:
	case last > f.seq:
		missed = true
	case len(f.log) > 0 && last+1 < f.log[0].ID:
		missed = true
	default:
		for i, m := range f.log {
			if m.ID > last {
				return append([]message(nil), f.log[i:]...), false
			}
		}
		return nil, false
	}
	return append([]message(nil), f.log...), missed
}

// wait registers a page for wake-ups; stop unregisters it.
func (f *feed) wait() (wake <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.waiters[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.waiters, ch)
		f.mu.Unlock()
	}
}

// cardLocked returns the card of call id, made when new; the oldest card
// goes beyond maxCards. The caller holds f.mu.
func (f *feed) cardLocked(id string) *card {
	if c, ok := f.cards[id]; ok {
		return c
	}
	c := &card{CallID: id}
	f.cards[id] = c
	f.order = append(f.order, id)
	if len(f.order) > maxCards {
		delete(f.cards, f.order[0])
		f.order = f.order[1:]
	}
	return c
}
