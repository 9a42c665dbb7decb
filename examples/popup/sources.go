package main

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pbxkit/pbxkit/voip"
)

// merged is several sockets seen as one voip.Source, for a PBX whose
// socket carries one user's calls (Webitel): the events of every socket,
// and their notices, named after their socket in Subscriber. Events
// closes once every socket has stopped.
type merged struct {
	srcs    []voip.Source
	events  chan voip.Event
	notices chan voip.Notice
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	once    sync.Once

	mu   sync.Mutex
	errs []error
}

var _ voip.Source = (*merged)(nil)

// mergeSources merges srcs, named names, and owns them: Close closes them.
func mergeSources(srcs []voip.Source, names []string) *merged {
	m := &merged{srcs: srcs, events: make(chan voip.Event, 256), notices: make(chan voip.Notice, 64),
		done: make(chan struct{})}
	for i, src := range srcs {
		m.wg.Go(func() { m.forward(src, names[i]) })
	}
	go func() {
		m.wg.Wait()
		close(m.events)
		close(m.notices)
	}()
	return m
}

// forward moves one socket's events and notices until it stops or the
// merge is closed.
func (m *merged) forward(src voip.Source, name string) {
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
			n.Subscriber = name
			select { // notices are few: when nobody reads them, they go
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

func (m *merged) Events() <-chan voip.Event   { return m.events }
func (m *merged) Notices() <-chan voip.Notice { return m.notices }

// Err joins the errors of the sockets that stopped for good.
func (m *merged) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.errs...)
}

// Close closes every socket and waits for the forwarding to end.
func (m *merged) Close() error {
	m.once.Do(func() {
		close(m.done)
		for _, src := range m.srcs {
			_ = src.Close()
		}
	})
	m.wg.Wait()
	return nil
}
