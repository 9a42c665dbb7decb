package voip

import (
	"errors"
	"fmt"
	"sync"
)

// DefaultMergeBuffer is the capacity of a merged source's Events.
const DefaultMergeBuffer = 256

// Merge returns several sources seen as one, for a PBX whose socket
// carries one user's calls (a Webitel operator's, say): Events delivers
// the events of every source, each source's in its own order; Notices
// delivers theirs, with Subscriber set to the source's name where the
// notice names none. A source that stops for good says so with its own
// notice and leaves the others running; Events closes once every source
// has stopped; Err joins the permanent errors of those that stopped, each
// after its name. Merge owns the sources: Close closes them all.
//
// Each source is read by a goroutine of its own, so an event costs a
// hand-off; the notices, being few, are dropped rather than waited for when
// nobody reads them.
func Merge(sources map[string]Source) Source {
	m := &merged{events: make(chan Event, DefaultMergeBuffer), notices: make(chan Notice, 64),
		done: make(chan struct{}), closed: make(chan struct{})}
	for name, src := range sources {
		m.srcs = append(m.srcs, src)
		m.wg.Go(func() { m.forward(name, src) })
	}
	go func() {
		m.wg.Wait()
		close(m.events)
		close(m.notices)
		close(m.closed)
	}()
	return m
}

// merged is the Source Merge returns.
type merged struct {
	srcs    []Source
	events  chan Event
	notices chan Notice
	done    chan struct{} // closed by Close
	closed  chan struct{} // closed once events and notices are
	wg      sync.WaitGroup
	once    sync.Once

	mu   sync.Mutex
	errs []error
}

// forward moves one source's events and notices until it stops or the
// merge is closed.
func (m *merged) forward(name string, src Source) {
	events, notices := src.Events(), src.Notices()
	for events != nil || notices != nil {
		select {
		case <-m.done:
			return
		case n, ok := <-notices:
			if !ok {
				notices = nil
				continue
			}
			if n.Subscriber == "" {
				n.Subscriber = name
			}
			select {
			case m.notices <- n:
			default:
			}
		case ev, ok := <-events:
			if !ok {
				events = nil
				if err := src.Err(); err != nil {
					m.mu.Lock()
					m.errs = append(m.errs, fmt.Errorf("%s: %w", name, err))
					m.mu.Unlock()
				}
				continue
			}
			select {
			case m.events <- ev:
			case <-m.done:
				return
			}
		}
	}
}

func (m *merged) Events() <-chan Event   { return m.events }
func (m *merged) Notices() <-chan Notice { return m.notices }

// Err joins the errors of the sources that stopped for good.
func (m *merged) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.errs...)
}

// Close closes every source and waits for the forwarding to end. It is
// idempotent and returns nil.
func (m *merged) Close() error {
	m.once.Do(func() {
		close(m.done)
		for _, src := range m.srcs {
			_ = src.Close()
		}
	})
	<-m.closed
	return nil
}
