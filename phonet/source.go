package phonet

import (
	"sync/atomic"

	"github.com/pbxkit/pbxkit/voip"
)

// voipSource is a Hub seen as a voip.Source: its call events converted,
// everything else left out. The conversion runs where the event is made,
// on each socket's reader goroutine, which delivers the voip.Event
// straight to the source's channel: no goroutine and no hand-off per
// event. (A single Stream's is the engine's: wsstream.Stream.Source.)
type voipSource struct {
	events  chan voip.Event
	notices <-chan voip.Notice
	err     func() error
	close   func() error
	done    chan struct{} // closed once events is
}

var _ voip.Source = (*voipSource)(nil)

func newVoipSource(buffer int, notices <-chan voip.Notice, err, closeFn func() error) *voipSource {
	return &voipSource{events: make(chan voip.Event, buffer), notices: notices, err: err, close: closeFn,
		done: make(chan struct{})}
}

// sourceRef is where an owner publishes its source once the events queued
// before it was made have been moved to it: the readers' fast path.
type sourceRef = atomic.Pointer[voipSource]

// Source returns the stream as a voip.Source, whose Events carry the call
// events as voip.Event (pauses, click2call replies and unknown types are
// left out; read [Stream.Events] to see them). Its Notices, Err and Close
// are the stream's. Once Source is called, read its events rather than
// Stream.Events: the events not yet read from Stream.Events move to it.
// The socket's reader converts each event and delivers it straight to the
// source: no goroutine and no hand-off per event.
func (s *Stream) Source() voip.Source { return s.ws.Source((*Event).Voip, s.Close) }

// Source returns the Hub as a voip.Source: the call events of every
// manager as voip.Event (pauses, click2call replies and unknown types are
// left out), the Hub's notices (each naming its Subscriber), Err and
// Close. Once Source is called, read its events rather than Hub.Events:
// the events not yet read from Hub.Events move to it.
func (h *Hub) Source() voip.Source {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.src != nil {
		return h.src
	}
	src := newVoipSource(cap(h.events), h.notices, h.Err, h.Close)
	h.src = src
	if h.closed {
		// Close has closed, or is closing, h.events; it closes src too.
		return src
	}
	h.source.Store(src)
	h.moveQueued(src)
	return src
}

// moveQueued moves the events queued on the Hub's own channel to src.
// Readers that pushed there before src was published call it too, so that
// no event is left behind; the Hub's pushes are many-producer already.
func (h *Hub) moveQueued(src *voipSource) {
	for {
		select {
		case ev, ok := <-h.events:
			if !ok {
				return
			}
			if v, ok := ev.Voip(); ok {
				pushNewest(h, src.events, v, ev.Subscriber)
			}
		default:
			return
		}
	}
}

func (v *voipSource) Events() <-chan voip.Event   { return v.events }
func (v *voipSource) Notices() <-chan voip.Notice { return v.notices }
func (v *voipSource) Err() error                  { return v.err() }

// Close stops the owner, which closes the events.
func (v *voipSource) Close() error {
	err := v.close()
	<-v.done
	return err
}
