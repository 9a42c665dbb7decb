package webitel

import (
	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

// Voip returns a call event as a voip.Event, or false for anything else
// (agent status, other events, and call sub-events that are not a phase:
// hold, dtmf, a second active…).
//
// For an event a Stream delivered the mapping uses what the stream knew of
// the call: ringing is Start; the first active or bridge is Answer (an
// active after a hold is the resume, not a second answer); hangup is End
// with [Disposition] of the cause and whether the call was answered;
// Direction, Client (E.164 when it is a phone number) and Ext come from
// the call's ringing. For an event from [ParseEvent], which knows nothing
// of the call, every active and bridge is Answer and a hangup is answered
// when it had talk time.
func (e *Event) Voip() (voip.Event, bool) {
	if e.tracked {
		return e.v, e.vok
	}
	c := e.Call
	if c == nil || c.ID == "" {
		return voip.Event{}, false
	}
	var st callState
	st.parties(c.Direction, c.From, c.To)
	v := voip.Event{Vendor: Vendor, CallID: c.ID, ParentCallID: c.ParentID, RawStatus: c.Action, At: c.At,
		Raw: e.Raw, Direction: st.dir, Client: st.client, Ext: st.ext}
	if v.At.IsZero() {
		v.At = e.ReceivedAt
	}
	switch c.Action {
	case ActionRinging:
		v.Kind = voip.EventStart
	case ActionActive, ActionBridge:
		v.Kind = voip.EventAnswer
		if c.Action == ActionBridge {
			v.Client, v.Ext = "", ""
			if c.To != nil {
				v.Client = voip.Party(c.To.Number, phoneRegion)
			}
		}
	case ActionHangup:
		v.Kind, v.RawStatus = voip.EventEnd, c.Cause
		v.Disposition = Disposition(c.Cause, c.Talk > 0)
	default:
		return voip.Event{}, false
	}
	return v, true
}

// voipSource is a Stream seen as a voip.Source: its call events converted,
// everything else left out. The conversion is the reader's (see track),
// which delivers the voip.Event straight to the source's channel: no
// goroutine and no hand-off per event.
type voipSource struct {
	events  chan voip.Event
	notices <-chan voip.Notice
	err     func() error
	close   func() error
	done    chan struct{} // closed once events is
}

var _ voip.Source = (*voipSource)(nil)

// Source returns the stream as a voip.Source, whose Events carry the call
// events as voip.Event (see [Event.Voip]; agent status and other events are
// left out: read [Stream.Events] to see them). Its Notices, Err and Close
// are the stream's; a notice with Gap says events may be missing. Once
// Source is called, read its events rather than Stream.Events: the events
// not yet read from Stream.Events move to it.
func (s *Stream) Source() voip.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src != nil {
		return s.src
	}
	src := &voipSource{events: make(chan voip.Event, cap(s.ws.Events())), notices: s.Notices(), err: s.Err,
		close: s.Close, done: make(chan struct{})}
	// The reader delivers to src once it is set (see emit), under s.mu
	// until s.source is published; the events queued before move first,
	// so the order holds. They fit: src is as large as the queue.
	s.src = src
	moveQueued(s.ws.Events(), src)
	s.source.Store(src)
	go func() {
		// Nothing reaches the stream's own channel any more; it closes
		// when the stream stops, after the reader's last delivery to src.
		for ev := range s.ws.Events() {
			src.offer(ev)
		}
		close(src.events)
		close(src.done)
	}()
	return src
}

// emit hands one event of the stream's reader to the consumer: the
// stream's channel, or its Source once there is one.
func (s *Stream) emit(ev *Event, emit func(*Event)) {
	if src := s.source.Load(); src != nil {
		if ev.vok {
			wsstream.Deliver(s.ws, src.events, ev.v)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src == nil {
		emit(ev)
		return
	}
	if ev.vok { // Source is moving the queued events: after them
		wsstream.Deliver(s.ws, s.src.events, ev.v)
	}
}

// moveQueued converts the events queued on ch, without waiting, into src.
func moveQueued(ch <-chan *Event, src *voipSource) {
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			src.offer(ev)
		default:
			return
		}
	}
}

// offer queues a stream event's conversion on src if there is room; only
// the moves of queued events use it, and they always fit.
func (v *voipSource) offer(ev *Event) {
	if ev.vok {
		select {
		case v.events <- ev.v:
		default:
		}
	}
}

func (v *voipSource) Events() <-chan voip.Event   { return v.events }
func (v *voipSource) Notices() <-chan voip.Notice { return v.notices }
func (v *voipSource) Err() error                  { return v.err() }

// Close stops the stream, which closes the events.
func (v *voipSource) Close() error {
	err := v.close()
	<-v.done
	return err
}
